# Seed 000: a degree-5 polynomial model with zero-initialized coefficients, trained sample by
# sample with gradient descent (the seed's "conceptual" loop, run on synthetic data).
import numpy as np
import gpugraph as tf

num_coeffs = 6 # 多项式的系数数量
def model(X, w):
    terms = []
    for i in range(num_coeffs):
        # 计算每一项:w[i] * X^i
        term = tf.multiply(w[i], tf.pow(X, i))
        terms.append(term)
    # 将所有项相加得到多项式的值
    return tf.add_n(terms)
# 定义一个TensorFlow变量w,作为多项式的系数
# 初始值被设置为一个包含num_coeffs个0.的列表
w = tf.Variable([0.] * num_coeffs, name="parameters")
# 定义输入X的占位符(在TensorFlow 2.x中通常直接使用tf.Tensor)
X = tf.compat.v1.placeholder(tf.float32, name="input_X")
# 构建模型输出
y_model = model(X, w)

# 定义真实标签的占位符
y_true = tf.compat.v1.placeholder(tf.float32, name="true_Y")
# 定义损失函数,例如均方误差 (Mean Squared Error, MSE)
loss = tf.reduce_mean(tf.square(y_model - y_true))
optimizer = tf.compat.v1.train.GradientDescentOptimizer(learning_rate=0.01)
train_op = optimizer.minimize(loss)

# Synthetic data: y = 1 + 2x - 3x^2 + x^5 (+ noise) on [-1, 1].
rng = np.random.RandomState(0)
trX = np.linspace(-1, 1, 101)
true_coeffs = [1.0, 2.0, -3.0, 0.0, 0.0, 1.0]
trY = sum(c * trX ** i for i, c in enumerate(true_coeffs)) + rng.normal(scale=0.1, size=trX.shape)

num_training_steps = 40
with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    print("initial w:", sess.run(w))
    for step in range(num_training_steps):
        for (x, y) in zip(trX, trY):
            _, current_loss = sess.run([train_op, loss], feed_dict={X: x, y_true: y})
    w_val = sess.run(w)
    print("learned w:", np.round(w_val, 2))
    final_mse = np.mean((sum(w_val[i] * trX ** i for i in range(num_coeffs)) - trY) ** 2)
    print("final training MSE:", round(float(final_mse), 4))
