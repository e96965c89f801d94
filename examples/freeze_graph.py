"""Freezing a trained model for serving, as TF1 scripts do it: convert_variables_to_constants,
tf.train.write_graph (a binary .pb), then tf.GraphDef().ParseFromString from tf.gfile.GFile and
tf.import_graph_def(input_map=..., return_elements=...) into a new graph."""

import collections
import os
import shutil

import numpy as np

import gpugraph as tf

export_dir = "logs/freeze_graph"
shutil.rmtree(export_dir, ignore_errors=True)
data = np.random.RandomState(0)
xs = data.normal(size=(256, 4)).astype(np.float32)
ys = (xs @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32) > 0).astype(np.int64)

# 1. Train a small classifier.
with tf.Graph().as_default() as train_graph:
    x = tf.placeholder(tf.float32, [None, 4], name="input")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    with tf.variable_scope("model"):
        w1 = tf.get_variable("w1", [4, 8], initializer=tf.constant_initializer(0.1))
        b1 = tf.get_variable("b1", [8], initializer=tf.zeros_initializer())
        hidden = tf.nn.tanh(tf.nn.bias_add(tf.matmul(x, w1), b1))
        w2 = tf.get_variable("w2", [8, 2], initializer=tf.constant_initializer(
            np.linspace(-0.5, 0.5, 16).reshape(8, 2)))
        logits = tf.matmul(hidden, w2, name="logits")
    probabilities = tf.nn.softmax(logits, name="probabilities")
    prediction = tf.argmax(logits, 1, name="prediction")
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    train_op = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(60):
            loss_value, _ = sess.run([loss, train_op], feed_dict={x: xs, labels: ys})
        print("trained: loss %.4f" % loss_value)
        trained_probs = sess.run(probabilities, feed_dict={x: xs})
        graph_def = train_graph.as_graph_def()
        print("trainable variables:", [v.op.name for v in tf.trainable_variables()])
        # 2. Freeze: the variables the outputs need become Const nodes; the rest of the graph is dropped.
        frozen = tf.graph_util.convert_variables_to_constants(sess, graph_def, ["probabilities", "prediction"])

print("frozen graph: %d nodes" % len(frozen.node))
counts = collections.Counter(node.op for node in frozen.node)
print("op types:", ", ".join("%s=%d" % item for item in sorted(counts.items())))
print("no variables left:", not any(node.op.startswith("Variable") for node in frozen.node))
tf.train.write_graph(frozen, export_dir, "frozen.pb", as_text=False)
print("wrote frozen.pb:", os.path.exists(os.path.join(export_dir, "frozen.pb")))

# 3. Load it back into a fresh graph, feeding a new placeholder in place of "input".
restored_def = tf.GraphDef()
with tf.gfile.GFile(os.path.join(export_dir, "frozen.pb"), "rb") as f:
    restored_def.ParseFromString(f.read())
print("read back: %d nodes" % len(restored_def.node))
with tf.Graph().as_default() as serving_graph:
    features = tf.placeholder(tf.float32, [None, 4], name="features")
    probs, pred = tf.import_graph_def(restored_def, input_map={"input:0": features},
                                      return_elements=["probabilities:0", "prediction:0"], name="frozen")
    print("imported:", probs.name, pred.name, pred.op.type)
    with tf.Session(graph=serving_graph) as sess:
        served_probs, served_pred = sess.run([probs, pred], feed_dict={features: xs})
print("outputs equal the trained model's:", np.allclose(served_probs, trained_probs, atol=1e-6))
print("accuracy %.3f" % np.mean(served_pred == ys))
