"""The built-in trainer behind ``gpugraph train``: models a config can describe, their data, the loop."""

from __future__ import annotations

from gpugraph.trainer.data import Dataset, DataError, load_dataset
from gpugraph.trainer.loop import Terminated, TrainError, TrainResult, build_training_graph, evaluate, train
from gpugraph.trainer.models import Model, build_model, is_classifier

__all__ = ["DataError", "Dataset", "Model", "Terminated", "TrainError", "TrainResult", "build_model",
           "build_training_graph", "evaluate", "is_classifier", "load_dataset", "train"]
