"""Seeded initial weights, as TF1 scripts rely on them: tf.set_random_seed makes every initializer
(glorot_uniform by default, truncated_normal, random_normal, random_uniform) and every dropout mask
the same from run to run, and the same as TensorFlow's."""

import numpy as np

import gpugraph as tf

tf.set_random_seed(1234)

x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
labels = tf.placeholder(tf.int64, [None], name="labels")
conv = tf.layers.conv2d(x, 4, 3, activation=tf.nn.relu, name="conv")
flat = tf.reshape(conv, [-1, 6 * 6 * 4])
hidden = tf.layers.dense(flat, 16, activation=tf.nn.relu, name="hidden",
                         kernel_initializer=tf.truncated_normal_initializer(stddev=0.1))
dropped = tf.nn.dropout(hidden, keep_prob=0.75)
with tf.variable_scope("logits"):
    w = tf.get_variable("w", [16, 3], initializer=tf.random_normal_initializer(mean=0.0, stddev=0.2))
    b = tf.get_variable("b", [3], initializer=tf.random_uniform_initializer(-0.1, 0.1))
    logits = tf.matmul(dropped, w) + b
extra = tf.get_variable("extra", [5], initializer=tf.random_uniform_initializer(minval=0, maxval=10, seed=7))
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss)

data = np.random.RandomState(0)
xs = data.uniform(size=(6, 8, 8, 1)).astype(np.float32)
ys = data.randint(0, 3, size=6).astype(np.int64)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for var in tf.global_variables():
        value = sess.run(var)
        print("%s %s sum=%.9g first=%s" % (var.op.name, var.shape, value.sum(),
                                          " ".join("%.9g" % v for v in value.ravel()[:3])))
    mask = sess.run(dropped, feed_dict={x: xs}) != 0
    print("dropout kept %d of %d" % (mask.sum(), mask.size))
    loss_value, _ = sess.run([loss, train_op], feed_dict={x: xs, labels: ys})
    print("first step loss %.6f" % loss_value)
    print("loss after one step %.6f" % sess.run(loss, feed_dict={x: xs, labels: ys}))
