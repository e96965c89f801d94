"""A word-level language model with a stacked GRU, in the style of TF1's PTB tutorial: an embedding,
a MultiRNNCell of two GRUCells each wrapped in a DropoutWrapper whose keep probability is a
placeholder (0.5 in training, 1.0 to evaluate), tf.nn.dynamic_rnn over windows of the text, a
dense softmax layer over the vocabulary, cross-entropy averaged over the window, Adam with gradient
clipping. Perplexity on held-out text falls from the vocabulary size towards the corpus entropy.
The text is examples/text_corpus.py's synthetic corpus (topic words and fillers).
"""

import collections

import numpy as np

import gpugraph as tf
from text_corpus import read_data

words = read_data(n_words=12000, n_topics=5, words_per_topic=20)
counts = collections.Counter(words)
vocab = sorted(counts, key=lambda w: (-counts[w], w))
word_to_id = {w: i for i, w in enumerate(vocab)}
data = np.array([word_to_id[w] for w in words], dtype=np.int32)
train_data, valid_data = data[:10000], data[10000:]
vocab_size = len(vocab)
print("vocabulary:", vocab_size, "words; most common:", vocab[:5])

batch_size = 20
num_steps = 10
hidden_size = 32
num_layers = 2
learning_rate = 0.01
max_grad_norm = 5.0


def batches(raw, rng=None):
    """Windows of num_steps words and the words that follow them."""
    n = (len(raw) - 1) // num_steps
    starts = np.arange(n) * num_steps
    if rng is not None:
        starts = rng.permutation(starts)
    for i in range(0, n - batch_size + 1, batch_size):
        idx = starts[i:i + batch_size, None] + np.arange(num_steps)
        yield raw[idx], raw[idx + 1]


tf.set_random_seed(7)

inputs = tf.placeholder(tf.int32, [None, num_steps], name="inputs")
targets = tf.placeholder(tf.int32, [None, num_steps], name="targets")
keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")

embedding = tf.get_variable("embedding", [vocab_size, hidden_size])
embedded = tf.nn.embedding_lookup(embedding, inputs)


def make_cell():
    cell = tf.nn.rnn_cell.GRUCell(hidden_size)
    return tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=keep_prob)


cell = tf.nn.rnn_cell.MultiRNNCell([make_cell() for _ in range(num_layers)])
outputs, state = tf.nn.dynamic_rnn(cell, embedded, dtype=tf.float32)
print("outputs:", outputs)
print("state:", state)

logits = tf.layers.dense(tf.reshape(outputs, [-1, hidden_size]), vocab_size)
logits = tf.reshape(logits, [-1, num_steps, vocab_size])
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits))

tvars = tf.trainable_variables()
grads, _ = tf.clip_by_global_norm(tf.gradients(loss, tvars), max_grad_norm)
train_op = tf.train.AdamOptimizer(learning_rate).apply_gradients(zip(grads, tvars))
print("variables:", [(v.name, v.shape.as_list()) for v in tvars])


def perplexity(sess, raw):
    costs = [sess.run(loss, {inputs: x, targets: y}) for x, y in batches(raw)]
    return np.exp(np.mean(costs))


rng = np.random.RandomState(0)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(f"epoch 0 valid perplexity: {perplexity(sess, valid_data):.2f}")
    for epoch in range(1, 4):
        for x, y in batches(train_data, rng):
            sess.run(train_op, {inputs: x, targets: y, keep_prob: 0.5})
        print(f"epoch {epoch} valid perplexity: {perplexity(sess, valid_data):.2f}")
