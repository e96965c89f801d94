# Seed 002, "创建一个计算图并在会话中执行": build f = x*x*y + y + 2 and run it three ways.
import gpugraph as tf

x = tf.Variable(3, name="x")
y = tf.Variable(4, name="y")
f = x*x*y + y + 2

sess = tf.Session()
sess.run(x.initializer)
sess.run(y.initializer)
result = sess.run(f)
print(result)
sess.close()

# 每次重复sess.run()看起来有些笨拙,好在有更好的方式
with tf.Session() as sess:
    x.initializer.run()
    y.initializer.run()
    result = f.eval()
    print(result)

init = tf.global_variables_initializer()

with tf.Session() as sess:
    init.run()
    result = f.eval()
    print(result)

sess = tf.InteractiveSession()
init.run()
result = f.eval()
print(result)
sess.close()
