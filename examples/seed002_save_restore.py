# Seed 002, "保存和恢复模型": tf.train.Saver saves during training and restores into a new session.
# (The seed saves under D:/Python3Space/...; here the same files go under ./model/, made first,
# since Saver.save, as TF1's, needs the directory to exist.)
import os

import numpy as np
import gpugraph as tf
from housing import fetch_california_housing, standard_scale

housing = fetch_california_housing()
m, n = housing.data.shape
scaled_housing_data_plus_bias = np.c_[np.ones((m, 1)), standard_scale(housing.data)]

n_epochs = 1000                                                                       # not shown in the book
learning_rate = 0.01                                                                  # not shown

X = tf.constant(scaled_housing_data_plus_bias, dtype=tf.float32, name="X")            # not shown
y = tf.constant(housing.target.reshape(-1, 1), dtype=tf.float32, name="y")            # not shown
theta = tf.Variable(tf.random_uniform([n + 1, 1], -1.0, 1.0, seed=42), name="theta")
y_pred = tf.matmul(X, theta, name="predictions")                                      # not shown
error = y_pred - y                                                                    # not shown
mse = tf.reduce_mean(tf.square(error), name="mse")                                    # not shown
optimizer = tf.train.GradientDescentOptimizer(learning_rate=learning_rate)            # not shown
training_op = optimizer.minimize(mse)                                                 # not shown

init = tf.global_variables_initializer()
saver = tf.train.Saver()
os.makedirs("model/tmp", exist_ok=True)                                              # not in the seed

with tf.Session() as sess:
    sess.run(init)

    for epoch in range(n_epochs):
        if epoch % 100 == 0:
            print("Epoch", epoch, "MSE =", mse.eval())                                # not shown
            save_path = saver.save(sess, "model/my_model.ckpt")
        sess.run(training_op)

    best_theta = theta.eval()
    save_path = saver.save(sess, "model/tmp/my_model_final.ckpt")

with tf.Session() as sess:
    saver.restore(sess, "model/tmp/my_model_final.ckpt")
    best_theta_restored = theta.eval() # not shown in the book
    print(best_theta_restored)

print(np.allclose(best_theta, best_theta_restored))

# Saving theta under another name
saver = tf.train.Saver({"weights": theta})
with tf.Session() as sess:
    sess.run(init)
    print(saver.save(sess, "model/weights.ckpt"))
print(tf.train.list_variables("model/weights.ckpt"))
