"""A character-level RNN on variable-length sentences: each sentence is padded to the batch's
longest, tf.nn.dynamic_rnn runs a GRUCell with sequence_length (outputs past a sentence's end are
zero and its final state is the one at its last character), and the next-character loss is
weighted by tf.sequence_mask so padding does not count. The text is a small synthetic one:
sentences drawn from a tiny grammar, seeded.
"""

import numpy as np

import gpugraph as tf

rng = np.random.RandomState(3)
subjects = ["the cat", "a dog", "my friend", "the old man", "she", "he"]
verbs = ["sees", "likes", "finds", "paints", "meets"]
objects = ["the sea", "a red ball", "the moon", "an apple", "her", "the garden"]
sentences = [f"{subjects[rng.randint(6)]} {verbs[rng.randint(5)]} {objects[rng.randint(6)]}."
             for _ in range(600)]
chars = sorted(set("".join(sentences)))
PAD, GO = 0, 1
char_to_id = {c: i + 2 for i, c in enumerate(chars)}
vocab_size = len(chars) + 2
print("sentences:", len(sentences), "characters:", vocab_size, "longest:", max(map(len, sentences)))
print("example:", repr(sentences[0]))


def encode(batch):
    """Inputs (GO + sentence), targets (sentence), lengths; padded with PAD to the longest."""
    lengths = np.array([len(s) for s in batch], dtype=np.int32)
    inputs = np.full((len(batch), lengths.max()), PAD, dtype=np.int32)
    targets = np.full((len(batch), lengths.max()), PAD, dtype=np.int32)
    for i, s in enumerate(batch):
        ids = [char_to_id[c] for c in s]
        inputs[i, :len(s)] = [GO] + ids[:-1]
        targets[i, :len(s)] = ids
    return inputs, targets, lengths


hidden_size = 64
batch_size = 32
tf.set_random_seed(3)

inputs = tf.placeholder(tf.int32, [None, None], name="inputs")
targets = tf.placeholder(tf.int32, [None, None], name="targets")
lengths = tf.placeholder(tf.int32, [None], name="lengths")

one_hot = tf.one_hot(inputs, vocab_size)
cell = tf.nn.rnn_cell.GRUCell(hidden_size)
outputs, final_state = tf.nn.dynamic_rnn(cell, one_hot, sequence_length=lengths, dtype=tf.float32)
logits = tf.layers.dense(outputs, vocab_size)
print("outputs:", outputs)
print("logits:", logits)

mask = tf.sequence_mask(lengths, tf.shape(inputs)[1], dtype=tf.float32)
loss = tf.losses.sparse_softmax_cross_entropy(labels=targets, logits=logits, weights=mask)
print("mask:", mask)
print("loss:", loss)
train_op = tf.train.AdamOptimizer(0.01).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print("sequence_mask([1, 3, 2], 4):")
    print(sess.run(tf.sequence_mask([1, 3, 2], 4)).astype(int))

    x, y, n = encode(sentences[:4])
    out, state = sess.run([outputs, final_state], {inputs: x, lengths: n})
    print("lengths:", n, "padded to", x.shape[1])
    print("outputs past each length are zero:", all(np.all(out[i, n[i]:] == 0) for i in range(4)))
    print("final state is the output at the last character:",
          all(np.allclose(state[i], out[i, n[i] - 1]) for i in range(4)))

    step = 0
    for _ in range(3):
        order = rng.permutation(len(sentences))
        for i in range(0, len(sentences), batch_size):
            x, y, n = encode([sentences[j] for j in order[i:i + batch_size]])
            _, l_value = sess.run([train_op, loss], {inputs: x, targets: y, lengths: n})
            if step % 20 == 0:
                print(f"step {step}: loss per character {l_value:.3f}")
            step += 1

    x, y, n = encode(sentences[:64])
    print(f"final loss per character: {sess.run(loss, {inputs: x, targets: y, lengths: n}):.3f}")
