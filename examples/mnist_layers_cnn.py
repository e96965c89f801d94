"""The TF1 tf.layers CNN tutorial's model in a plain Session loop: tf.layers conv/pool/dense/dropout,
tf.losses.sparse_softmax_cross_entropy and tf.metrics.accuracy, with a `training` placeholder."""

import gpugraph as tf
from mnist_data import read_data_sets

mnist = read_data_sets("MNIST_data/", one_hot=False)

features = tf.placeholder(tf.float32, [None, 784], name="features")
labels = tf.placeholder(tf.int64, [None], name="labels")
training = tf.placeholder_with_default(False, shape=(), name="training")


def cnn_model(x, training):
    input_layer = tf.reshape(x, [-1, 28, 28, 1])
    conv1 = tf.layers.conv2d(inputs=input_layer, filters=16, kernel_size=[5, 5], padding="same",
                             activation=tf.nn.relu)
    pool1 = tf.layers.max_pooling2d(inputs=conv1, pool_size=[2, 2], strides=2)
    conv2 = tf.layers.conv2d(inputs=pool1, filters=32, kernel_size=[5, 5], padding="same",
                             activation=tf.nn.relu)
    pool2 = tf.layers.max_pooling2d(inputs=conv2, pool_size=[2, 2], strides=2)
    pool2_flat = tf.layers.flatten(pool2)
    dense = tf.layers.dense(inputs=pool2_flat, units=256, activation=tf.nn.relu)
    dropout = tf.layers.dropout(inputs=dense, rate=0.4, training=training)
    return tf.layers.dense(inputs=dropout, units=10)


logits = cnn_model(features, training)
loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
global_step = tf.train.get_or_create_global_step()
train_op = tf.train.GradientDescentOptimizer(learning_rate=0.05).minimize(loss, global_step=global_step)
predictions = tf.argmax(input=logits, axis=1)
accuracy, accuracy_update = tf.metrics.accuracy(labels=labels, predictions=predictions)

for v in tf.trainable_variables():
    print(v.name, v.shape)
print(logits)
print(loss)
print(accuracy)

with tf.Session() as sess:
    sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
    for step in range(300):
        batch_x, batch_y = mnist.train.next_batch(50)
        _, loss_value = sess.run([train_op, loss], {features: batch_x, labels: batch_y, training: True})
        if step % 100 == 0:
            print("step %d, loss %.3f" % (step, loss_value))
    for start in range(0, mnist.test.num_examples, 250):
        sess.run(accuracy_update, {features: mnist.test.images[start:start + 250],
                                   labels: mnist.test.labels[start:start + 250]})
    print("global step", sess.run(global_step))
    print("test accuracy %g" % sess.run(accuracy))
