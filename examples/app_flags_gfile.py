"""A TF1 command-line training script: tf.app.flags for its settings, tf.gfile for its log
directory, tf.logging for progress, tf.app.run() as the entry point (as the TF1 MNIST
"fully_connected_feed.py" and "mnist_with_summaries.py" scripts are laid out)."""

import os

import numpy as np

import gpugraph as tf

flags = tf.app.flags
FLAGS = flags.FLAGS
flags.DEFINE_float("learning_rate", 0.5, "Initial learning rate.")
flags.DEFINE_integer("max_steps", 200, "Number of steps to run trainer.")
flags.DEFINE_integer("batch_size", 100, "Batch size.")
flags.DEFINE_string("train_dir", "logs/app_flags_gfile", "Directory for checkpoints and event files.")
flags.DEFINE_boolean("fake_data", True, "If true, uses synthetic data.")


def fake_batch(rng, batch_size):
    xs = rng.normal(size=(batch_size, 4)).astype(np.float32)
    ys = (xs @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32) > 0).astype(np.int32)
    return xs, ys


def run_training():
    rng = np.random.RandomState(0)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")
        with tf.name_scope("softmax_linear"):
            weights = tf.Variable(tf.zeros([4, 2]), name="weights")
            biases = tf.Variable(tf.zeros([2]), name="biases")
            logits = tf.matmul(x, weights) + biases
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits), name="xentropy")
        tf.summary.scalar("loss", loss)
        global_step = tf.Variable(0, name="global_step", trainable=False)
        train_op = tf.train.GradientDescentOptimizer(FLAGS.learning_rate).minimize(loss, global_step=global_step)
        correct = tf.reduce_sum(tf.cast(tf.nn.in_top_k(logits, y, 1), tf.int32))
        summary = tf.summary.merge_all()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            summary_writer = tf.summary.FileWriter(FLAGS.train_dir, sess.graph)
            sess.run(tf.global_variables_initializer())
            for step in range(FLAGS.max_steps):
                xs, ys = fake_batch(rng, FLAGS.batch_size)
                _, loss_value = sess.run([train_op, loss], feed_dict={x: xs, y: ys})
                if step % 50 == 0:
                    tf.logging.info("Step %d: loss = %.2f", step, loss_value)
                    summary_str = sess.run(summary, feed_dict={x: xs, y: ys})
                    summary_writer.add_summary(summary_str, step)
                    summary_writer.flush()
            checkpoint_file = os.path.join(FLAGS.train_dir, "model.ckpt")
            saver.save(sess, checkpoint_file, global_step=global_step)
            xs, ys = fake_batch(rng, 1000)
            print("Precision @ 1: %0.04f" % (sess.run(correct, feed_dict={x: xs, y: ys}) / 1000.0))
            summary_writer.close()


def main(_):
    tf.logging.set_verbosity(tf.logging.INFO)
    if tf.gfile.Exists(FLAGS.train_dir):
        tf.gfile.DeleteRecursively(FLAGS.train_dir)
    tf.gfile.MakeDirs(FLAGS.train_dir)
    print("learning_rate", FLAGS.learning_rate, "max_steps", FLAGS.max_steps)
    run_training()
    print("checkpoint" in tf.gfile.ListDirectory(FLAGS.train_dir), tf.train.latest_checkpoint(FLAGS.train_dir))
    print(len(tf.gfile.Glob(os.path.join(FLAGS.train_dir, "events.out.tfevents.*"))), "event file")


if __name__ == "__main__":
    tf.app.run()
