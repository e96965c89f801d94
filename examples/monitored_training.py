"""A tf.train.MonitoredTrainingSession loop, as TF1 training scripts write it: global step,
StopAtStepHook, LoggingTensorHook and NanTensorHook, checkpoints and summaries in checkpoint_dir,
and a second run that resumes from the last checkpoint."""

import shutil

import numpy as np

import gpugraph as tf

tf.logging.set_verbosity(tf.logging.INFO)
checkpoint_dir = "logs/monitored_training"
shutil.rmtree(checkpoint_dir, ignore_errors=True)
rng = np.random.RandomState(0)
true_w = np.array([[2.0], [-3.0], [0.5]], dtype=np.float32)


def train(last_step):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.get_variable("w", [3, 1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y), name="loss")
    tf.summary.scalar("loss", loss)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)
    hooks = [tf.train.StopAtStepHook(last_step=last_step),
             tf.train.NanTensorHook(loss),
             tf.train.LoggingTensorHook({"step": global_step}, every_n_iter=50)]
    steps_run = 0
    with tf.train.MonitoredTrainingSession(checkpoint_dir=checkpoint_dir, hooks=hooks,
                                           save_checkpoint_steps=100, save_summaries_steps=25,
                                           log_step_count_steps=None) as sess:
        while not sess.should_stop():
            xs = rng.normal(size=(32, 3)).astype(np.float32)
            _, loss_value = sess.run([train_op, loss], feed_dict={x: xs, y: xs @ true_w})
            steps_run += 1
    print("ran %d steps to global step %d, loss %.4f" % (steps_run, last_step, loss_value))


train(last_step=150)
print("latest checkpoint:", tf.train.latest_checkpoint(checkpoint_dir))
train(last_step=300)
print("latest checkpoint:", tf.train.latest_checkpoint(checkpoint_dir))
reader = tf.train.NewCheckpointReader(tf.train.latest_checkpoint(checkpoint_dir))
print("w after 300 steps:", np.round(reader.get_tensor("w").ravel(), 3))
print("global_step:", reader.get_tensor("global_step"))
