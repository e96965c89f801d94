# Seed 001: a variable used in a linear map, and variables named inside nested name scopes.
import gpugraph as tf

# 定义一个变量,并初始化为0.0,形状为[1],数据类型为float32
W = tf.Variable(tf.zeros([1]), dtype=tf.float32)
# 一个简单的占位符,用于输入数据
x = tf.placeholder(tf.float32, shape=[None])
# 使用变量进行线性变换,输出y = W * x
y = W * x
# 初始化所有全局变量
init = tf.global_variables_initializer()
# 创建一个会话,并运行初始化操作
with tf.Session() as sess:
    sess.run(init)
    print(sess.run(y, feed_dict={x: [1.0, 2.0, 3.0]}))

with tf.name_scope('parent_scope'):
    with tf.name_scope('child_scope'):
        var = tf.Variable(tf.random.normal([10]), name='child_var')
print('parent_scope can access var:', var.name)

# Reusing a variable that was never created is an error, as the seed's last snippet would find.
try:
    with tf.variable_scope('scope', reuse=True):
        var_reused = tf.get_variable('var_name')
except ValueError as e:
    print("ValueError:", e)
