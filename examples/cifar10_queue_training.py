"""The TF1 model zoo's CIFAR-10 tutorial (cifar10_input, cifar10, cifar10_train, cifar10_eval), small:
binary records read through a filename queue and FixedLengthRecordReader, distorted, batched by
shuffle_batch's queue runners, a conv net trained under MonitoredTrainingSession with moving averages
of the weights, then evaluated with those averages restored from the checkpoint."""

import math
import os
import shutil
import tempfile

import numpy as np

import cifar10_data
import gpugraph as tf

IMAGE_SIZE = 24
NUM_CLASSES = cifar10_data.NUM_CLASSES
BATCH_SIZE = 32
MAX_STEPS = 150
LOG_FREQUENCY = 50
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = 400
NUM_EXAMPLES_FOR_EVAL = 200
MOVING_AVERAGE_DECAY = 0.9999
INITIAL_LEARNING_RATE = 0.05
LEARNING_RATE_DECAY_FACTOR = 0.5
NUM_EPOCHS_PER_DECAY = 10.0

work_dir = tempfile.mkdtemp()
train_dir = os.path.join(work_dir, "cifar10_train")
train_files, test_files = cifar10_data.write_cifar10_binaries(os.path.join(work_dir, "cifar-10-batches-bin"))


# --- cifar10_input ---
class CIFAR10Record:
    pass


def read_cifar10(filename_queue):
    """One example (label, uint8 image [32, 32, 3]) read from the files of ``filename_queue``."""
    result = CIFAR10Record()
    label_bytes = 1
    result.height, result.width, result.depth = 32, 32, 3
    image_bytes = result.height * result.width * result.depth
    record_bytes = label_bytes + image_bytes
    reader = tf.FixedLengthRecordReader(record_bytes=record_bytes)
    result.key, value = reader.read(filename_queue)
    record_bytes = tf.decode_raw(value, tf.uint8)
    result.label = tf.cast(tf.strided_slice(record_bytes, [0], [label_bytes]), tf.int32)
    depth_major = tf.reshape(tf.strided_slice(record_bytes, [label_bytes], [label_bytes + image_bytes]),
                             [result.depth, result.height, result.width])
    result.uint8image = tf.transpose(depth_major, [1, 2, 0])
    return result


def _generate_image_and_label_batch(image, label, min_queue_examples, batch_size, shuffle):
    num_preprocess_threads = 1
    if shuffle:
        images, label_batch = tf.train.shuffle_batch(
            [image, label], batch_size=batch_size, num_threads=num_preprocess_threads,
            capacity=min_queue_examples + 3 * batch_size, min_after_dequeue=min_queue_examples)
    else:
        images, label_batch = tf.train.batch(
            [image, label], batch_size=batch_size, num_threads=1, capacity=min_queue_examples + 3 * batch_size)
    tf.summary.image("images", images)
    return images, tf.reshape(label_batch, [batch_size])


def distorted_inputs(filenames, batch_size):
    filename_queue = tf.train.string_input_producer(filenames)
    read_input = read_cifar10(filename_queue)
    reshaped_image = tf.cast(read_input.uint8image, tf.float32)
    distorted_image = tf.random_crop(reshaped_image, [IMAGE_SIZE, IMAGE_SIZE, 3])
    distorted_image = tf.image.random_flip_left_right(distorted_image)
    distorted_image = tf.image.random_brightness(distorted_image, max_delta=63)
    distorted_image = tf.image.random_contrast(distorted_image, lower=0.2, upper=1.8)
    float_image = tf.image.per_image_standardization(distorted_image)
    float_image.set_shape([IMAGE_SIZE, IMAGE_SIZE, 3])
    read_input.label.set_shape([1])
    min_queue_examples = int(NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN * 0.2)
    return _generate_image_and_label_batch(float_image, read_input.label, min_queue_examples, batch_size,
                                           shuffle=True)


def inputs(filenames, batch_size):
    filename_queue = tf.train.string_input_producer(filenames, shuffle=False)
    read_input = read_cifar10(filename_queue)
    reshaped_image = tf.cast(read_input.uint8image, tf.float32)
    resized_image = tf.image.resize_image_with_crop_or_pad(reshaped_image, IMAGE_SIZE, IMAGE_SIZE)
    float_image = tf.image.per_image_standardization(resized_image)
    float_image.set_shape([IMAGE_SIZE, IMAGE_SIZE, 3])
    read_input.label.set_shape([1])
    return _generate_image_and_label_batch(float_image, read_input.label, batch_size, batch_size, shuffle=False)


# --- cifar10 ---
def _variable_with_weight_decay(name, shape, stddev, wd):
    var = tf.get_variable(name, shape, initializer=tf.truncated_normal_initializer(stddev=stddev), dtype=tf.float32)
    if wd is not None:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name="weight_loss")
        tf.add_to_collection("losses", weight_decay)
    return var


def inference(images):
    with tf.variable_scope("conv1") as scope:
        kernel = _variable_with_weight_decay("weights", shape=[5, 5, 3, 16], stddev=5e-2, wd=None)
        conv = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding="SAME")
        biases = tf.get_variable("biases", [16], initializer=tf.constant_initializer(0.0))
        conv1 = tf.nn.relu(tf.nn.bias_add(conv, biases), name=scope.name)
    pool1 = tf.nn.max_pool(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME", name="pool1")
    norm1 = tf.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm1")
    with tf.variable_scope("conv2") as scope:
        kernel = _variable_with_weight_decay("weights", shape=[5, 5, 16, 16], stddev=5e-2, wd=None)
        conv = tf.nn.conv2d(norm1, kernel, [1, 1, 1, 1], padding="SAME")
        biases = tf.get_variable("biases", [16], initializer=tf.constant_initializer(0.1))
        conv2 = tf.nn.relu(tf.nn.bias_add(conv, biases), name=scope.name)
    norm2 = tf.nn.lrn(conv2, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm2")
    pool2 = tf.nn.max_pool(norm2, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME", name="pool2")
    with tf.variable_scope("local3") as scope:
        reshape = tf.reshape(pool2, [images.get_shape().as_list()[0], -1])
        dim = reshape.get_shape().as_list()[1]
        weights = _variable_with_weight_decay("weights", shape=[dim, 64], stddev=0.04, wd=0.004)
        biases = tf.get_variable("biases", [64], initializer=tf.constant_initializer(0.1))
        local3 = tf.nn.relu(tf.matmul(reshape, weights) + biases, name=scope.name)
    with tf.variable_scope("softmax_linear") as scope:
        weights = _variable_with_weight_decay("weights", [64, NUM_CLASSES], stddev=1 / 64.0, wd=None)
        biases = tf.get_variable("biases", [NUM_CLASSES], initializer=tf.constant_initializer(0.0))
        softmax_linear = tf.add(tf.matmul(local3, weights), biases, name=scope.name)
    return softmax_linear


def loss(logits, labels):
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                                   name="cross_entropy_per_example")
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name="cross_entropy")
    tf.add_to_collection("losses", cross_entropy_mean)
    return tf.add_n(tf.get_collection("losses"), name="total_loss")


def _add_loss_summaries(total_loss):
    loss_averages = tf.train.ExponentialMovingAverage(0.9, name="avg")
    losses = tf.get_collection("losses")
    loss_averages_op = loss_averages.apply(losses + [total_loss])
    for l in losses + [total_loss]:
        tf.summary.scalar(l.op.name + " (raw)", l)
        tf.summary.scalar(l.op.name, loss_averages.average(l))
    return loss_averages_op


def train(total_loss, global_step):
    num_batches_per_epoch = NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN / BATCH_SIZE
    decay_steps = int(num_batches_per_epoch * NUM_EPOCHS_PER_DECAY)
    lr = tf.train.exponential_decay(INITIAL_LEARNING_RATE, global_step, decay_steps, LEARNING_RATE_DECAY_FACTOR,
                                    staircase=True)
    tf.summary.scalar("learning_rate", lr)
    loss_averages_op = _add_loss_summaries(total_loss)
    with tf.control_dependencies([loss_averages_op]):
        opt = tf.train.GradientDescentOptimizer(lr)
        grads = opt.compute_gradients(total_loss)
    apply_gradient_op = opt.apply_gradients(grads, global_step=global_step)
    variable_averages = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY, global_step)
    with tf.control_dependencies([apply_gradient_op]):
        variables_averages_op = variable_averages.apply(tf.trainable_variables())
    return variables_averages_op


# --- cifar10_train ---
with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    images, labels = distorted_inputs(train_files, BATCH_SIZE)
    print("train batch:", images, labels)
    logits = inference(images)
    total_loss = loss(logits, labels)
    train_op = train(total_loss, global_step)
    print("variables:", " ".join(v.op.name for v in tf.trainable_variables()))

    class _LoggerHook(tf.train.SessionRunHook):
        """Logs loss and runtime."""

        def begin(self):
            self._step = -1

        def before_run(self, run_context):
            self._step += 1
            return tf.train.SessionRunArgs(total_loss)

        def after_run(self, run_context, run_values):
            if self._step % LOG_FREQUENCY == 0:
                print("step %d, loss = %.2f" % (self._step, run_values.results))

    with tf.train.MonitoredTrainingSession(checkpoint_dir=train_dir,
                                           hooks=[tf.train.StopAtStepHook(last_step=MAX_STEPS),
                                                  tf.train.NanTensorHook(total_loss), _LoggerHook()],
                                           save_summaries_steps=None, log_step_count_steps=None) as mon_sess:
        while not mon_sess.should_stop():
            mon_sess.run(train_op)

# --- cifar10_eval ---
with tf.Graph().as_default():
    eval_batch_size = 50
    images, labels = inputs(test_files, eval_batch_size)
    logits = inference(images)
    top_k_op = tf.nn.in_top_k(logits, labels, 1)
    variable_averages = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY)
    variables_to_restore = variable_averages.variables_to_restore()
    print("restoring:", sorted(variables_to_restore)[:2])
    saver = tf.train.Saver(variables_to_restore)
    with tf.Session() as sess:
        ckpt = tf.train.get_checkpoint_state(train_dir)
        saver.restore(sess, ckpt.model_checkpoint_path)
        print("checkpoint global step:", ckpt.model_checkpoint_path.split("/")[-1].split("-")[-1])
        coord = tf.train.Coordinator()
        threads = []
        try:
            for qr in tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS):
                threads.extend(qr.create_threads(sess, coord=coord, daemon=True, start=True))
            num_iter = int(math.ceil(NUM_EXAMPLES_FOR_EVAL / eval_batch_size))
            true_count = 0
            total_sample_count = num_iter * eval_batch_size
            step = 0
            while step < num_iter and not coord.should_stop():
                predictions = sess.run([top_k_op])
                true_count += np.sum(predictions)
                step += 1
            print("precision @ 1 = %.3f" % (true_count / total_sample_count))
        except Exception as e:  # noqa: BLE001 - as cifar10_eval reports it to the coordinator
            coord.request_stop(e)
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)

shutil.rmtree(work_dir, ignore_errors=True)
