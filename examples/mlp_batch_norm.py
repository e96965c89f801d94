"""An MLP classifier as TF1 scripts write one with tf.layers: dense + batch_normalization + dropout,
the batch-norm updates run through tf.GraphKeys.UPDATE_OPS, scored with tf.nn.in_top_k."""

import numpy as np

import gpugraph as tf
from mnist_data import read_data_sets

mnist = read_data_sets("MNIST_data/", one_hot=False)
n_inputs, n_hidden1, n_hidden2, n_outputs = 28 * 28, 300, 100, 10

X = tf.placeholder(tf.float32, shape=(None, n_inputs), name="X")
y = tf.placeholder(tf.int32, shape=(None), name="y")
training = tf.placeholder_with_default(False, shape=(), name="training")

with tf.name_scope("dnn"):
    hidden1 = tf.layers.dense(X, n_hidden1, name="hidden1")
    bn1 = tf.layers.batch_normalization(hidden1, training=training, momentum=0.9)
    bn1_act = tf.nn.elu(bn1)
    drop1 = tf.layers.dropout(bn1_act, rate=0.2, training=training)
    hidden2 = tf.layers.dense(drop1, n_hidden2, name="hidden2")
    bn2 = tf.layers.batch_normalization(hidden2, training=training, momentum=0.9)
    bn2_act = tf.nn.elu(bn2)
    logits_before_bn = tf.layers.dense(bn2_act, n_outputs, name="outputs")
    logits = tf.layers.batch_normalization(logits_before_bn, training=training, momentum=0.9)

with tf.name_scope("loss"):
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = tf.reduce_mean(xentropy, name="loss")

with tf.name_scope("train"):
    optimizer = tf.train.MomentumOptimizer(learning_rate=0.01, momentum=0.9)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        training_op = optimizer.minimize(loss)

with tf.name_scope("eval"):
    correct = tf.nn.in_top_k(logits, y, 1)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

init = tf.global_variables_initializer()

print(len(update_ops), "update ops")
print([v.name for v in tf.global_variables() if "batch_normalization/" in v.name])
print(sorted(v.name for v in tf.trainable_variables())[:4])
print(correct)

n_epochs, batch_size = 4, 200
with tf.Session() as sess:
    init.run()
    for epoch in range(n_epochs):
        for iteration in range(mnist.train.num_examples // batch_size):
            X_batch, y_batch = mnist.train.next_batch(batch_size)
            sess.run(training_op, feed_dict={training: True, X: X_batch, y: y_batch})
        accuracy_val = accuracy.eval(feed_dict={X: mnist.test.images, y: mnist.test.labels})
        print(epoch, "Test accuracy:", accuracy_val)
    moving_mean = [v for v in tf.global_variables() if v.name == "batch_normalization/moving_mean:0"][0]
    print("moving mean moved:", bool(np.abs(moving_mean.eval()).sum() > 0))
