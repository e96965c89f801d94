"""A small DCGAN in the style of TF1 DCGAN scripts: tf.nn.conv2d_transpose generator and tf.nn.conv2d
discriminator built from tf.get_variable in variable scopes (the discriminator reused for fake
images), batch normalisation, sigmoid cross-entropy losses and two Adam optimizers with var_lists.
The "data set" is 16x16 images of bright discs at random places."""

import numpy as np

import gpugraph as tf

batch_size, z_dim, image_size = 32, 32, 16
rng = np.random.RandomState(0)


def real_images(n):
    rows, cols = np.mgrid[0:image_size, 0:image_size]
    centres = rng.uniform(4, image_size - 4, size=(n, 2))
    radii = rng.uniform(2.0, 4.0, size=n)
    dist = np.hypot(rows[None] - centres[:, 0, None, None], cols[None] - centres[:, 1, None, None])
    discs = (dist < radii[:, None, None]).astype(np.float32)
    return (discs * 2.0 - 1.0)[..., None]  # in [-1, 1], as the generator's tanh


def lrelu(x, leak=0.2, name="lrelu"):
    return tf.maximum(x, leak * x, name=name)


def conv2d(input_, output_dim, k=5, stride=2, name="conv2d"):
    with tf.variable_scope(name):
        w = tf.get_variable("w", [k, k, input_.get_shape()[-1], output_dim],
                            initializer=tf.truncated_normal_initializer(stddev=0.02))
        conv = tf.nn.conv2d(input_, w, strides=[1, stride, stride, 1], padding="SAME")
        biases = tf.get_variable("biases", [output_dim], initializer=tf.constant_initializer(0.0))
        return tf.nn.bias_add(conv, biases)


def deconv2d(input_, output_shape, k=5, stride=2, name="deconv2d"):
    with tf.variable_scope(name):
        w = tf.get_variable("w", [k, k, output_shape[-1], input_.get_shape()[-1]],
                            initializer=tf.random_normal_initializer(stddev=0.02))
        deconv = tf.nn.conv2d_transpose(input_, w, output_shape=output_shape, strides=[1, stride, stride, 1])
        biases = tf.get_variable("biases", [output_shape[-1]], initializer=tf.constant_initializer(0.0))
        return tf.nn.bias_add(deconv, biases)


def linear(input_, output_size, scope="Linear"):
    with tf.variable_scope(scope):
        matrix = tf.get_variable("Matrix", [input_.get_shape()[1], output_size], tf.float32,
                                 tf.random_normal_initializer(stddev=0.02))
        bias = tf.get_variable("bias", [output_size], initializer=tf.constant_initializer(0.0))
        return tf.matmul(input_, matrix) + bias


def generator(z, training):
    with tf.variable_scope("generator"):
        h0 = tf.reshape(linear(z, 4 * 4 * 64, "g_h0_lin"), [-1, 4, 4, 64])
        h0 = tf.nn.relu(tf.layers.batch_normalization(h0, training=training, name="g_bn0"))
        h1 = deconv2d(h0, [batch_size, 8, 8, 32], name="g_h1")
        h1 = tf.nn.relu(tf.layers.batch_normalization(h1, training=training, name="g_bn1"))
        h2 = deconv2d(h1, [batch_size, 16, 16, 1], name="g_h2")
        return tf.nn.tanh(h2)


def discriminator(image, reuse=False):
    with tf.variable_scope("discriminator", reuse=reuse):
        h0 = lrelu(conv2d(image, 32, name="d_h0_conv"))
        h1 = lrelu(conv2d(h0, 64, name="d_h1_conv"))
        h2 = linear(tf.reshape(h1, [batch_size, -1]), 1, "d_h2_lin")
        return tf.nn.sigmoid(h2), h2


inputs = tf.placeholder(tf.float32, [batch_size, image_size, image_size, 1], name="real_images")
z = tf.placeholder(tf.float32, [None, z_dim], name="z")
G = generator(z, training=True)
D, D_logits = discriminator(inputs)
D_, D_logits_ = discriminator(G, reuse=True)

d_loss_real = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_logits, labels=tf.ones_like(D)))
d_loss_fake = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_logits_, labels=tf.zeros_like(D_)))
g_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=D_logits_, labels=tf.ones_like(D_)))
d_loss = d_loss_real + d_loss_fake

t_vars = tf.trainable_variables()
d_vars = [var for var in t_vars if "d_" in var.name]
g_vars = [var for var in t_vars if "g_" in var.name]
print([v.name for v in d_vars])
print([v.name for v in g_vars])
print(G)
print(D_logits_)

with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    d_optim = tf.train.AdamOptimizer(0.0002, beta1=0.5).minimize(d_loss, var_list=d_vars)
    g_optim = tf.train.AdamOptimizer(0.0002, beta1=0.5).minimize(g_loss, var_list=g_vars)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sample_z = rng.uniform(-1, 1, size=(batch_size, z_dim)).astype(np.float32)
    for step in range(301):
        batch_images = real_images(batch_size)
        batch_z = rng.uniform(-1, 1, [batch_size, z_dim]).astype(np.float32)
        sess.run(d_optim, feed_dict={inputs: batch_images, z: batch_z})
        sess.run(g_optim, feed_dict={z: batch_z})
        sess.run(g_optim, feed_dict={z: batch_z})  # twice, so d_loss does not go to zero
        if step % 100 == 0:
            errD, errG = sess.run([d_loss, g_loss], feed_dict={inputs: batch_images, z: batch_z})
            print("step %d: d_loss %.4f, g_loss %.4f" % (step, errD, errG))
    samples = sess.run(G, feed_dict={z: sample_z})
    print("samples", samples.shape, "in [-1, 1]:", bool(np.abs(samples).max() <= 1.0))
    real = real_images(1000)
    print("mean pixel: real %.2f, generated %.2f" % (real.mean(), samples.mean()))
