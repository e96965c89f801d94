"""A stand-in for word2vec_basic.py's text8 download: a synthetic corpus with word topics.

Words belong to topics; each sentence stays within one topic, so words of a topic share contexts
and skip-gram embeddings of one topic end up close together.
"""

import numpy as np


def read_data(n_words=60000, n_topics=10, words_per_topic=40, sentence_length=12, seed=0):
    rng = np.random.RandomState(seed)
    vocab = [f"t{t}w{w}" for t in range(n_topics) for w in range(words_per_topic)]
    fillers = ["the", "of", "and", "a", "in"]
    words = []
    while len(words) < n_words:
        topic = rng.randint(n_topics)
        # Zipf-like word frequencies within a topic, as natural text has.
        ranks = np.minimum(rng.zipf(1.3, size=sentence_length), words_per_topic) - 1
        for r in ranks:
            words.append(vocab[topic * words_per_topic + r])
            if rng.rand() < 0.3:
                words.append(fillers[rng.randint(len(fillers))])
    return words[:n_words]
