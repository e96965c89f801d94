# Seed 002, "实现梯度下降": batch gradient descent with manual gradients, autodiff, an optimizer,
# and the momentum optimizer the seed suggests next.
import numpy as np
import gpugraph as tf
from housing import fetch_california_housing, standard_scale

housing = fetch_california_housing()
m, n = housing.data.shape
scaled_housing_data_plus_bias = np.c_[np.ones((m, 1)), standard_scale(housing.data)]


def reset_graph(seed=42):
    tf.reset_default_graph()
    tf.set_random_seed(seed)
    np.random.seed(seed)


for variant in ("manual", "autodiff", "optimizer", "momentum"):
    reset_graph()
    print("Gradients:", variant)

    n_epochs = 1000
    learning_rate = 0.01

    X = tf.constant(scaled_housing_data_plus_bias, dtype=tf.float32, name="X")
    y = tf.constant(housing.target.reshape(-1, 1), dtype=tf.float32, name="y")
    theta = tf.Variable(tf.random_uniform([n+1, 1], -1.0, 1.0), name="theta")
    y_pred = tf.matmul(X, theta, name="perdictions")
    error = y_pred - y
    mse = tf.reduce_mean(tf.square(error), name="mse")
    if variant == "manual":
        gradients = 2/m * tf.matmul(tf.transpose(X), error)
        training_op = tf.assign(theta, theta - learning_rate * gradients)
    elif variant == "autodiff":
        gradients = tf.gradients(mse, [theta])[0]
        training_op = tf.assign(theta, theta - learning_rate * gradients)
    elif variant == "optimizer":
        optimizer = tf.train.GradientDescentOptimizer(learning_rate=learning_rate)
        training_op = optimizer.minimize(mse)
    else:
        optimizer = tf.train.MomentumOptimizer(learning_rate=learning_rate, momentum=0.9)
        training_op = optimizer.minimize(mse)

    init = tf.global_variables_initializer()

    with tf.Session() as sess:
        sess.run(init)

        for epoch in range(n_epochs):
            if epoch % 100 == 0:
                print("Epoch", epoch, "MSE = ", mse.eval())
            sess.run(training_op)

        best_theta = theta.eval()
    print("Best theta:")
    print(best_theta)
