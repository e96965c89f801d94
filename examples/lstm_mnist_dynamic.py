"""LSTM MNIST classifier with tf.nn.dynamic_rnn: each image is a sequence of 28 rows of 28 pixels,
read by an LSTMCell inside one while loop; the output at the last time step goes through a dense
layer to 10 classes.

Smaller than a full tutorial run (64 hidden units, 150 steps of Adam) so it runs in seconds on a
CPU; the data is examples/mnist_data.py's synthetic stand-in for MNIST.
"""

import gpugraph as tf
from mnist_data import read_data_sets

mnist = read_data_sets("/tmp/data/")

n_steps = 28
n_inputs = 28
n_neurons = 64
n_outputs = 10
learning_rate = 0.005
batch_size = 64
n_iterations = 150

tf.set_random_seed(42)

X = tf.placeholder(tf.float32, [None, n_steps, n_inputs], name="X")
y = tf.placeholder(tf.int32, [None], name="y")

lstm_cell = tf.nn.rnn_cell.LSTMCell(num_units=n_neurons)
outputs, states = tf.nn.dynamic_rnn(lstm_cell, X, dtype=tf.float32)
print("outputs:", outputs)
print("states:", states)

logits = tf.layers.dense(outputs[:, -1], n_outputs)
xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
loss = tf.reduce_mean(xentropy)
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
training_op = optimizer.minimize(loss)
correct = tf.nn.in_top_k(logits, y, 1)
accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

print("variables:", [(v.name, v.shape.as_list()) for v in tf.trainable_variables()])

init = tf.global_variables_initializer()

X_test = mnist.test.images[:500].reshape((-1, n_steps, n_inputs))
y_test = mnist.test.labels[:500]

with tf.Session() as sess:
    init.run()
    for iteration in range(n_iterations + 1):
        X_batch, y_batch = mnist.train.next_batch(batch_size)
        X_batch = X_batch.reshape((-1, n_steps, n_inputs))
        sess.run(training_op, feed_dict={X: X_batch, y: y_batch})
        if iteration % 50 == 0:
            loss_value, acc_train = sess.run([loss, accuracy], feed_dict={X: X_batch, y: y_batch})
            print(f"{iteration} loss: {loss_value:.4f} train accuracy: {acc_train:.3f}")
    acc_test = accuracy.eval(feed_dict={X: X_test, y: y_test})
    print("test accuracy:", acc_test)
