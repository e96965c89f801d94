"""Time-series forecasting with an RNN, as "Hands-On Machine Learning" (chapter 14) writes it in
TF1: a BasicRNNCell run by tf.nn.dynamic_rnn over windows of a sine-like series; every time
step's output is projected to one value by a single dense layer applied to the outputs reshaped
to [batch * steps, neurons] and reshaped back, and trained (MSE, Adam) to predict the series one
step ahead. Finally the trained model generates a continuation of the series from a seed window.
"""

import numpy as np

import gpugraph as tf

t_min, t_max = 0, 30
resolution = 0.1


def time_series(t):
    return t * np.sin(t) / 3 + 2 * np.sin(t * 5)


def next_batch(batch_size, n_steps, rng):
    t0 = rng.rand(batch_size, 1) * (t_max - t_min - n_steps * resolution)
    Ts = t0 + np.arange(0., n_steps + 1) * resolution
    ys = time_series(Ts)
    return ys[:, :-1].reshape(-1, n_steps, 1), ys[:, 1:].reshape(-1, n_steps, 1)


n_steps = 20
n_inputs = 1
n_neurons = 100
n_outputs = 1
learning_rate = 0.001

tf.set_random_seed(42)
rng = np.random.RandomState(42)

X = tf.placeholder(tf.float32, [None, n_steps, n_inputs])
y = tf.placeholder(tf.float32, [None, n_steps, n_outputs])

cell = tf.nn.rnn_cell.BasicRNNCell(num_units=n_neurons, activation=tf.nn.relu)
rnn_outputs, states = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
print("rnn_outputs:", rnn_outputs)
print("states:", states)

stacked_rnn_outputs = tf.reshape(rnn_outputs, [-1, n_neurons])
stacked_outputs = tf.layers.dense(stacked_rnn_outputs, n_outputs)
outputs = tf.reshape(stacked_outputs, [-1, n_steps, n_outputs])
print("outputs:", outputs)

loss = tf.reduce_mean(tf.square(outputs - y))  # MSE
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
training_op = optimizer.minimize(loss)

init = tf.global_variables_initializer()
print("variables:", [(v.name, v.shape.as_list()) for v in tf.trainable_variables()])

n_iterations = 600
batch_size = 50

with tf.Session() as sess:
    init.run()
    for iteration in range(n_iterations + 1):
        X_batch, y_batch = next_batch(batch_size, n_steps, rng)
        sess.run(training_op, feed_dict={X: X_batch, y: y_batch})
        if iteration % 150 == 0:
            mse = loss.eval(feed_dict={X: X_batch, y: y_batch})
            print(iteration, "\tMSE:", f"{mse:.4f}")

    # One step ahead on a fixed window (the book's test instance, t = 12.2 ...)
    t_instance = np.linspace(12.2, 12.2 + resolution * (n_steps + 1), n_steps + 1)
    X_new = time_series(t_instance[:-1]).reshape(-1, n_steps, n_inputs)
    y_true = time_series(t_instance[1:])
    y_pred = sess.run(outputs, feed_dict={X: X_new})
    print("prediction:", y_pred.shape, f"test MSE: {np.mean((y_pred.ravel() - y_true) ** 2):.4f}")

    # Generate new values: feed the model's own predictions back in.
    sequence = list(time_series(t_instance[:-1]))
    for _ in range(30):
        X_batch = np.array(sequence[-n_steps:]).reshape(1, n_steps, 1)
        y_pred = sess.run(outputs, feed_dict={X: X_batch})
        sequence.append(y_pred[0, -1, 0])
    print("generated:", len(sequence), "values")
