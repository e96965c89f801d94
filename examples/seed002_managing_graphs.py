# Seed 002, "管理图": nodes go to the default graph unless another graph is made the default.
import gpugraph as tf

x1 = tf.Variable(1)
print(x1.graph is tf.get_default_graph())

graph = tf.Graph()
with graph.as_default():
    x2 = tf.Variable(2)

print(x2.graph is graph)
print(x2.graph is tf.get_default_graph())

tf.reset_default_graph()
