"""Bi-directional recurrent neural network (LSTM) MNIST classifier, as the classic TF1 example:
each image is a sequence of 28 rows of 28 pixels, read forwards and backwards by two
BasicLSTMCells (tf.nn.static_bidirectional_rnn); the last output (both directions concatenated)
goes through a linear layer to 10 classes.

Smaller than the original (32 hidden units per direction, 150 steps of Adam) so it runs in
seconds on a CPU; the data is examples/mnist_data.py's synthetic stand-in for MNIST.
"""

import gpugraph as tf
from mnist_data import read_data_sets

mnist = read_data_sets("/tmp/data/", one_hot=True)

# Training Parameters
learning_rate = 0.01
training_steps = 150
batch_size = 64
display_step = 50

# Network Parameters
num_input = 28  # MNIST data input (img shape: 28*28)
timesteps = 28  # timesteps
num_hidden = 32  # hidden layer num of features
num_classes = 10  # MNIST total classes (0-9 digits)

tf.set_random_seed(2)

# tf Graph input
X = tf.placeholder("float", [None, timesteps, num_input])
Y = tf.placeholder("float", [None, num_classes])

# Define weights
weights = {
    # Hidden layer weights => 2*n_hidden because of forward + backward cells
    "out": tf.Variable(tf.random_normal([2 * num_hidden, num_classes]))
}
biases = {
    "out": tf.Variable(tf.random_normal([num_classes]))
}


def BiRNN(x, weights, biases):
    # Unstack to get a list of 'timesteps' tensors of shape (batch_size, num_input)
    x = tf.unstack(x, timesteps, 1)

    # Forward direction cell
    lstm_fw_cell = tf.nn.rnn_cell.BasicLSTMCell(num_hidden, forget_bias=1.0)
    # Backward direction cell
    lstm_bw_cell = tf.nn.rnn_cell.BasicLSTMCell(num_hidden, forget_bias=1.0)

    # Get lstm cell output
    outputs, _, _ = tf.nn.static_bidirectional_rnn(lstm_fw_cell, lstm_bw_cell, x, dtype=tf.float32)
    print("outputs:", len(outputs), outputs[-1])

    # Linear activation, using rnn inner loop last output
    return tf.matmul(outputs[-1], weights["out"]) + biases["out"]


logits = BiRNN(X, weights, biases)
prediction = tf.nn.softmax(logits)

# Define loss and optimizer
loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
train_op = optimizer.minimize(loss_op)

# Evaluate model (with test logits, for dropout to be disabled)
correct_pred = tf.equal(tf.argmax(prediction, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

print("Variables:", [(v.name, v.shape.as_list()) for v in tf.trainable_variables()])

# Initialize the variables (i.e. assign their default value)
init = tf.global_variables_initializer()

# Start training
with tf.Session() as sess:

    # Run the initializer
    sess.run(init)

    for step in range(1, training_steps + 1):
        batch_x, batch_y = mnist.train.next_batch(batch_size)
        # Reshape data to get 28 seq of 28 elements
        batch_x = batch_x.reshape((batch_size, timesteps, num_input))
        # Run optimization op (backprop)
        sess.run(train_op, feed_dict={X: batch_x, Y: batch_y})
        if step % display_step == 0 or step == 1:
            # Calculate batch loss and accuracy
            loss, acc = sess.run([loss_op, accuracy], feed_dict={X: batch_x, Y: batch_y})
            print("Step " + str(step) + ", Minibatch Loss= " +
                  f"{loss:.4f}" + ", Training Accuracy= " +
                  f"{acc:.3f}")

    print("Optimization Finished!")

    # Calculate accuracy for 256 mnist test images
    test_len = 256
    test_data = mnist.test.images[:test_len].reshape((-1, timesteps, num_input))
    test_label = mnist.test.labels[:test_len]
    print("Testing Accuracy:", sess.run(accuracy, feed_dict={X: test_data, Y: test_label}))
