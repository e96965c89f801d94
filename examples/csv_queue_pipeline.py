"""Linear regression on a CSV file read by TF1's queue pipeline: string_input_producer(num_epochs) ->
TextLineReader(skip_header_lines=1) -> decode_csv -> tf.train.batch, trained under a Coordinator
and start_queue_runners until the epochs run out (OutOfRangeError)."""

import os
import shutil

import numpy as np

import gpugraph as tf

data_dir = "logs/csv_queue_pipeline"
shutil.rmtree(data_dir, ignore_errors=True)
os.makedirs(data_dir)
csv_path = os.path.join(data_dir, "points.csv")
rng = np.random.RandomState(42)
features = rng.uniform(-1.0, 1.0, size=(200, 2))
targets = 3.0 * features[:, 0] - 2.0 * features[:, 1] + 0.5 + rng.normal(0.0, 0.01, size=200)
with open(csv_path, "w") as f:
    f.write("x1,x2,y\n")
    for (x1, x2), y in zip(features, targets):
        f.write("%.6f,%.6f,%.6f\n" % (x1, x2, y))
print("wrote %d rows to %s" % (len(targets), os.path.basename(csv_path)))

NUM_EPOCHS = 15
BATCH_SIZE = 20

filename_queue = tf.train.string_input_producer([csv_path], num_epochs=NUM_EPOCHS, shuffle=False)
reader = tf.TextLineReader(skip_header_lines=1)
key, value = reader.read(filename_queue)
x1, x2, y = tf.decode_csv(value, record_defaults=[[0.0], [0.0], [0.0]])
features_batch, y_batch = tf.train.batch([tf.stack([x1, x2]), y], batch_size=BATCH_SIZE)
print("batch:", features_batch, y_batch)

w = tf.Variable(tf.zeros([2, 1]), name="weights")
b = tf.Variable(0.0, name="bias")
prediction = tf.squeeze(tf.matmul(features_batch, w), 1) + b
loss = tf.reduce_mean(tf.square(prediction - y_batch), name="loss")
global_step = tf.train.get_or_create_global_step()
train_op = tf.train.GradientDescentOptimizer(0.2).minimize(loss, global_step=global_step)

with tf.Session() as sess:
    # num_epochs counts in a local variable
    sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    step = 0
    try:
        while not coord.should_stop():
            _, loss_value = sess.run([train_op, loss])
            step += 1
            if step == 1 or step % 50 == 0:
                print("step %d, loss %.4f" % (step, loss_value))
    except tf.errors.OutOfRangeError:
        print("done: %d epochs, %d steps" % (NUM_EPOCHS, sess.run(global_step)))
    finally:
        coord.request_stop()
    coord.join(threads)
    learned_w, learned_b = sess.run([w, b])
print("learned weights: %.2f %.2f, bias %.2f" % (learned_w[0, 0], learned_w[1, 0], learned_b))
