"""Algorithms written as tf.while_loop, differentiated with tf.gradients.

1. Newton's method for the square root: y <- (y + a / y) / 2, a fixed number of iterations; the
   gradient of the result with respect to a is d sqrt(a) / da = 1 / (2 sqrt(a)), taken through
   every iteration of the loop.
2. Power iteration for the dominant eigenvalue of a symmetric matrix, with the gradient of the
   Rayleigh quotient with respect to the matrix (v v^T at convergence).
3. An explicit Euler integrator for the damped oscillator x'' = -k x - c x', unrolled by the loop;
   the final position is differentiated with respect to k and c, then k is fitted by gradient
   descent through the loop so that x(T) hits a target.
All values are deterministic: they must equal TensorFlow's to the printed precision.
"""

import numpy as np

import gpugraph as tf

# 1. Newton's method for sqrt(a)
a = tf.placeholder(tf.float64, shape=[3], name="a")


def newton_cond(i, y):
    return i < 8


def newton_body(i, y):
    return i + 1, 0.5 * (y + a / y)


_, root = tf.while_loop(newton_cond, newton_body, [tf.constant(0), tf.ones_like(a)], name="newton")
d_root = tf.gradients(root, a)[0]
print("root:", root)
print("d_root:", d_root)

# 2. Power iteration
m_init = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 1.0]])
M = tf.Variable(m_init, name="M")
v0 = tf.constant([1.0, 1.0, 1.0], dtype=tf.float64)


def power_body(i, v):
    w = tf.squeeze(tf.matmul(M, tf.expand_dims(v, 1)), 1)
    return i + 1, w / tf.norm(w)


_, v = tf.while_loop(lambda i, v: i < 50, power_body, [tf.constant(0), v0], name="power")
eigenvalue = tf.reduce_sum(v * tf.squeeze(tf.matmul(M, tf.expand_dims(v, 1)), 1))
d_eigenvalue = tf.gradients(eigenvalue, M)[0]

# 3. Euler integration of a damped oscillator
k = tf.Variable(2.0, dtype=tf.float32, name="k")
c = tf.Variable(0.3, dtype=tf.float32, name="c")
dt = 0.05
n_steps = 40


def euler_body(t, x, v):
    acc = -k * x - c * v
    return t + 1, x + dt * v, v + dt * acc


_, x_final, v_final = tf.while_loop(lambda t, x, v: t < n_steps, euler_body,
                                    [tf.constant(0), tf.constant(1.0), tf.constant(0.0)], name="euler")
dx_dk, dx_dc = tf.gradients(x_final, [k, c])
target = -0.2
loss = tf.square(x_final - target)
train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss, var_list=[k])
print("x_final:", x_final)
print("gradients:", dx_dk, dx_dc)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    r, dr = sess.run([root, d_root], feed_dict={a: [2.0, 9.0, 0.25]})
    print("sqrt:", np.round(r, 10))
    print("d sqrt / da:", np.round(dr, 10), "expected:", np.round(0.5 / np.sqrt([2.0, 9.0, 0.25]), 10))

    lam, dlam = sess.run([eigenvalue, d_eigenvalue])
    print(f"dominant eigenvalue: {lam:.8f} (numpy: {np.linalg.eigvalsh(m_init)[-1]:.8f})")
    print("d eigenvalue / dM:")
    print(np.round(dlam, 6))

    xf, gk, gc = sess.run([x_final, dx_dk, dx_dc])
    print(f"x(T) = {xf:.5f}, dx/dk = {gk:.5f}, dx/dc = {gc:.5f}")
    for step in range(31):
        _, l_value = sess.run([train_op, loss])
        if step % 10 == 0:
            print(f"step {step}: loss {l_value:.6f}, k {sess.run(k):.5f}")
    print(f"fitted x(T) = {sess.run(x_final):.4f} (target {target})")
