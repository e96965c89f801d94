"""The TF1 input pipeline of test_reader_pipeline.py, written once for gpugraph and for TensorFlow (the
reference maker passes ``tensorflow.compat.v1`` as ``tf``): files -> string_input_producer ->
TextLineReader -> decode_csv -> tf.train.batch, read under a Coordinator until OutOfRangeError."""

from __future__ import annotations

import os
from typing import Any

# Two CSV files with a header line; "b.csv" leaves fields empty (decode_csv's defaults) and has no final newline.
FILES = {
    "a.csv": "id,x,name\n1,0.5,alpha\n2,-1.25,beta\n3,2.0,\"gam,ma\"\n4,8.5,delta\n",
    "b.csv": "id,x,name\n5,,epsilon\n6,3.75,\n7,-0.5,eta\n8,1e3,theta\n9,0.125,iota",
}
CASES = {"drop_final": dict(batch_size=4, allow_smaller_final_batch=False),
         "smaller_final": dict(batch_size=4, allow_smaller_final_batch=True)}


def write_files(directory: str) -> list[str]:
    paths = []
    for name, text in FILES.items():
        path = os.path.join(directory, name)
        with open(path, "w", newline="") as f:
            f.write(text)
        paths.append(path)
    return paths


def read_batches(tf: Any, paths: list[str], batch_size: int, allow_smaller_final_batch: bool) -> list[list[Any]]:
    """Every batch the pipeline yields, as [keys, ids, xs, names] lists, in the order read."""
    filename_queue = tf.train.string_input_producer(paths, num_epochs=1, shuffle=False)
    reader = tf.TextLineReader(skip_header_lines=1)
    key, value = reader.read(filename_queue)
    record_id, x, name = tf.decode_csv(value, record_defaults=[[0], [-9.0], ["none"]])
    batch = tf.train.batch([key, record_id, x, name], batch_size=batch_size,
                           allow_smaller_final_batch=allow_smaller_final_batch)
    batches = []
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while not coord.should_stop():
                keys, ids, xs, names = sess.run(batch)
                batches.append([[k.decode() for k in keys], ids.tolist(), xs.tolist(), [n.decode() for n in names]])
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
    return batches
