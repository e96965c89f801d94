"""tf.queue: TF1's queues (FIFOQueue, RandomShuffleQueue, PaddingFIFOQueue, PriorityQueue).

``gpugraph.queues.host`` holds the session-side queues and ``dequeue_one`` for ops that read a queue.
"""

from __future__ import annotations

from gpugraph.queues.data_flow import FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase, RandomShuffleQueue

__all__ = ["FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueBase", "RandomShuffleQueue"]
