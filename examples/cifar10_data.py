"""A stand-in for the CIFAR-10 binary files (data_batch_N.bin, test_batch.bin), small and made here.

Each record is CIFAR-10's: 1 label byte, then a 32x32 image as 3 planes of 1024 bytes (red, green, blue).
A class is a colour (from a palette of 10) with horizontal stripes of a class-dependent period, plus
noise: learnable by a small conv net in a few hundred steps, unchanged by left-right flips and crops,
deterministic (a seeded NumPy generator).
"""

import os

import numpy as np

IMAGE_SIZE = 32
NUM_CLASSES = 10
RECORD_BYTES = 1 + IMAGE_SIZE * IMAGE_SIZE * 3
PALETTE = np.array([[230, 40, 40], [40, 230, 40], [40, 40, 230], [230, 230, 40], [230, 40, 230],
                    [40, 230, 230], [240, 140, 40], [140, 40, 240], [130, 130, 130], [40, 140, 100]], np.float32)


def make_records(count, seed):
    """``count`` CIFAR-10 records as one bytes object, and their labels."""
    rng = np.random.RandomState(seed)
    labels = np.arange(count) % NUM_CLASSES
    rng.shuffle(labels)
    rows = np.arange(IMAGE_SIZE)[:, None, None]
    records = []
    for label in labels:
        stripes = 0.6 + 0.4 * (((rows + rng.randint(4)) // (1 + label % 4)) % 2)  # [32, 1, 1], flip-invariant
        image = PALETTE[label] * stripes + rng.normal(0.0, 25.0, size=(IMAGE_SIZE, IMAGE_SIZE, 3))
        planes = np.clip(image, 0, 255).astype(np.uint8).transpose(2, 0, 1)  # depth-major, as CIFAR-10 stores it
        records.append(bytes([label]) + planes.tobytes())
    return b"".join(records), labels


def write_cifar10_binaries(data_dir, train_files=2, records_per_file=200, test_records=200):
    """Write data_batch_1.bin ... and test_batch.bin into ``data_dir``; (train file names, test file names)."""
    os.makedirs(data_dir, exist_ok=True)
    train = []
    for i in range(1, train_files + 1):
        path = os.path.join(data_dir, "data_batch_%d.bin" % i)
        with open(path, "wb") as f:
            f.write(make_records(records_per_file, seed=i)[0])
        train.append(path)
    test = os.path.join(data_dir, "test_batch.bin")
    with open(test, "wb") as f:
        f.write(make_records(test_records, seed=100)[0])
    return train, [test]
