"""tf.train: optimizers and the global step (more, with checkpoints, come with the training stack)."""

from gpugraph.train.gradient_descent import GradientDescentOptimizer
from gpugraph.train.optimizer import Optimizer
from gpugraph.train.checkpoint_state import (
    CheckpointState, NewCheckpointReader, checkpoint_exists, generate_checkpoint_state_proto, get_checkpoint_mtimes,
    get_checkpoint_state, latest_checkpoint, list_variables, load_checkpoint, load_variable, remove_checkpoint,
    update_checkpoint_state,
)
from gpugraph.train.saver import Saver, SaverDef, export_meta_graph, import_meta_graph
from gpugraph.train.training_util import (
    assert_global_step, create_global_step, get_global_step, get_or_create_global_step, global_step,
)

__all__ = ["GradientDescentOptimizer", "Optimizer", "assert_global_step", "create_global_step",
           "get_global_step", "get_or_create_global_step", "global_step"]
__all__ += ["CheckpointState", "NewCheckpointReader", "Saver", "SaverDef", "checkpoint_exists", "export_meta_graph",
            "generate_checkpoint_state_proto", "get_checkpoint_mtimes", "get_checkpoint_state", "import_meta_graph",
            "latest_checkpoint", "list_variables", "load_checkpoint", "load_variable", "remove_checkpoint",
            "update_checkpoint_state"]

from gpugraph.train.learning_rate_decay import (  # noqa: E402 - learning-rate schedules
    cosine_decay, exponential_decay, inverse_time_decay, natural_exp_decay, piecewise_constant,
    piecewise_constant_decay, polynomial_decay,
)

__all__ += ["cosine_decay", "exponential_decay", "inverse_time_decay", "natural_exp_decay", "piecewise_constant",
            "piecewise_constant_decay", "polynomial_decay"]

from gpugraph.train.adadelta import AdadeltaOptimizer  # noqa: E402 - optimizers with slots
from gpugraph.train.adagrad import AdagradOptimizer  # noqa: E402
from gpugraph.train.adam import AdamOptimizer  # noqa: E402
from gpugraph.train.momentum import MomentumOptimizer  # noqa: E402
from gpugraph.train.rmsprop import RMSPropOptimizer  # noqa: E402

__all__ += ["AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer", "MomentumOptimizer", "RMSPropOptimizer"]

from gpugraph.train.session_run_hook import (  # noqa: E402 - monitored sessions and their hooks
    SessionRunArgs, SessionRunContext, SessionRunHook, SessionRunValues,
)
from gpugraph.train.basic_session_run_hooks import (  # noqa: E402
    CheckpointSaverHook, CheckpointSaverListener, FeedFnHook, FinalOpsHook, GlobalStepWaiterHook, LoggingTensorHook,
    NanLossDuringTrainingError, NanTensorHook, SecondOrStepTimer, StepCounterHook, StopAtStepHook, SummarySaverHook,
)
from gpugraph.train.scaffold import Scaffold  # noqa: E402
from gpugraph.train.monitored_session import (  # noqa: E402
    ChiefSessionCreator, MonitoredSession, MonitoredTrainingSession, SessionCreator, SingularMonitoredSession,
    WorkerSessionCreator,
)

__all__ += ["CheckpointSaverHook", "CheckpointSaverListener", "ChiefSessionCreator", "FeedFnHook", "FinalOpsHook",
            "GlobalStepWaiterHook", "LoggingTensorHook", "MonitoredSession", "MonitoredTrainingSession",
            "NanLossDuringTrainingError", "NanTensorHook", "Scaffold", "SecondOrStepTimer", "SessionCreator",
            "SessionRunArgs", "SessionRunContext", "SessionRunHook", "SessionRunValues", "SingularMonitoredSession",
            "StepCounterHook", "StopAtStepHook", "SummarySaverHook", "WorkerSessionCreator"]

from gpugraph.train.adagrad_da import AdagradDAOptimizer  # noqa: E402 - regularised optimizers
from gpugraph.train.ftrl import FtrlOptimizer  # noqa: E402
from gpugraph.train.proximal_adagrad import ProximalAdagradOptimizer  # noqa: E402
from gpugraph.train.proximal_gradient_descent import ProximalGradientDescentOptimizer  # noqa: E402

__all__ += ["AdagradDAOptimizer", "FtrlOptimizer", "ProximalAdagradOptimizer", "ProximalGradientDescentOptimizer"]

from gpugraph.train.moving_averages import ExponentialMovingAverage  # noqa: E402 - averages of variables

__all__ += ["ExponentialMovingAverage"]

from gpugraph.train.learning_rate_decay_cosine import (  # noqa: E402 - cosine schedules with restarts/noise
    cosine_decay_restarts, linear_cosine_decay, noisy_linear_cosine_decay,
)

__all__ += ["cosine_decay_restarts", "linear_cosine_decay", "noisy_linear_cosine_decay"]

from gpugraph.train.coordinator import Coordinator, LooperThread  # noqa: E402 - threads, graph and event files
from gpugraph.train.graph_io import write_graph  # noqa: E402
from gpugraph.train.summary_io import summary_iterator  # noqa: E402

__all__ += ["Coordinator", "LooperThread", "summary_iterator", "write_graph"]

from gpugraph.train.warm_start import init_from_checkpoint  # noqa: E402

__all__ += ["init_from_checkpoint"]

from gpugraph.train import queue_runner  # noqa: E402,F401 - tf.train.queue_runner.QueueRunner, as TF1
from gpugraph.train.queue_runner import QueueRunner, add_queue_runner, start_queue_runners  # noqa: E402
from gpugraph.train.input import (  # noqa: E402
    batch, batch_join, input_producer, limit_epochs, maybe_batch, maybe_batch_join, maybe_shuffle_batch,
    maybe_shuffle_batch_join, range_input_producer, shuffle_batch, shuffle_batch_join, slice_input_producer,
    string_input_producer,
)

__all__ += ["QueueRunner", "add_queue_runner", "batch", "batch_join", "input_producer", "limit_epochs",
            "maybe_batch", "maybe_batch_join", "maybe_shuffle_batch", "maybe_shuffle_batch_join",
            "range_input_producer", "shuffle_batch", "shuffle_batch_join", "slice_input_producer",
            "start_queue_runners", "string_input_producer"]

from gpugraph.protos import EXAMPLE_MESSAGES as _EXAMPLE_MESSAGES  # noqa: E402 - tf.train.Example and friends
from gpugraph.protos import example_message as _example_message  # noqa: E402

__all__ += list(_EXAMPLE_MESSAGES)


def __getattr__(name: str):
    """tf.train.Example, tf.train.Feature, ...: protobuf loads on first use, not with ``import gpugraph``."""
    if name in _EXAMPLE_MESSAGES:
        return _example_message(name)
    raise AttributeError(f"module 'gpugraph.train' has no attribute '{name}'")
