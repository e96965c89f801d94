"""A tf.data input pipeline feeding a small CNN, as TF1's "Importing Data" guide builds it.

from_tensor_slices -> shuffle(seed) -> map (reshape, normalise, a random one-row shift chosen by
tf.cond) -> batch -> repeat -> prefetch, read through a reinitializable iterator: the training
loop runs until OutOfRangeError ends the epochs; the same iterator is then re-initialised on the
validation set, read to its end, and once more to show a second pass gives the same accuracy.
The data is examples/mnist_data.py's synthetic stand-in for MNIST.
"""

import numpy as np

import gpugraph as tf
from mnist_data import read_data_sets

mnist = read_data_sets("/tmp/data/", n_train=2048, n_validation=500)
batch_size = 64
num_epochs = 2

tf.set_random_seed(0)


def preprocess(image, label, augment):
    image = tf.reshape(image, [28, 28, 1])
    image = (image - 0.5) / 0.5
    if augment:
        coin = tf.random_uniform([], seed=1)
        image = tf.cond(coin < 0.5,
                        lambda: tf.concat([-tf.ones([1, 28, 1]), image[:-1]], axis=0),
                        lambda: image)
    return image, tf.cast(label, tf.int32)


train_ds = tf.data.Dataset.from_tensor_slices((mnist.train.images, mnist.train.labels))
train_ds = train_ds.shuffle(buffer_size=1000, seed=42)
train_ds = train_ds.map(lambda x, y: preprocess(x, y, augment=True))
train_ds = train_ds.batch(batch_size).repeat(num_epochs).prefetch(1)

val_ds = tf.data.Dataset.from_tensor_slices((mnist.validation.images, mnist.validation.labels))
val_ds = val_ds.map(lambda x, y: preprocess(x, y, augment=False)).batch(100)

print("train:", train_ds.output_types, train_ds.output_shapes)
print("validation:", val_ds.output_types, val_ds.output_shapes)

iterator = tf.data.Iterator.from_structure(train_ds.output_types, train_ds.output_shapes)
images, labels = iterator.get_next()
train_init = iterator.make_initializer(train_ds)
val_init = iterator.make_initializer(val_ds)
print("batch:", images, labels)

conv1 = tf.layers.conv2d(images, filters=16, kernel_size=5, padding="same", activation=tf.nn.relu)
pool1 = tf.layers.max_pooling2d(conv1, pool_size=2, strides=2)
conv2 = tf.layers.conv2d(pool1, filters=32, kernel_size=5, padding="same", activation=tf.nn.relu)
pool2 = tf.layers.max_pooling2d(conv2, pool_size=2, strides=2)
flat = tf.layers.flatten(pool2)
logits = tf.layers.dense(flat, 10)
print("logits:", logits)

loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels), tf.int32))


def evaluate(sess):
    sess.run(val_init)
    n_correct, n_seen = 0, 0
    while True:
        try:
            c, n = sess.run([correct, tf.shape(labels)[0]])
        except tf.errors.OutOfRangeError:
            break
        n_correct += c
        n_seen += n
    return n_correct, n_seen


with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train_init)
    step, losses = 0, []
    while True:
        try:
            _, l_value = sess.run([train_op, loss])
        except tf.errors.OutOfRangeError:
            break
        losses.append(l_value)
        if step % 16 == 0:
            print(f"step {step}: loss {np.mean(losses[-16:]):.4f}")
        step += 1
    print("training steps:", step)
    n_correct, n_seen = evaluate(sess)
    print(f"validation: {n_seen} images, accuracy {n_correct / n_seen:.3f}")
    print("second pass equal:", evaluate(sess) == (n_correct, n_seen))
