"""The ``gpugraph`` command.

``gpugraph info``: versions, the backend in use, and the GPUs found.
``gpugraph run SCRIPT.py [ARGS...]``: run a TF1-style script (``import gpugraph as tf``) with session
settings from a config file as every Session's defaults; ``-n N`` runs N ranks of it under mpiexec.
``gpugraph train CONFIG.toml``: the built-in trainer (gpugraph.trainer) on a model a config describes;
``--np N`` trains data-parallel on N ranks.
``gpugraph bench``: the repository's benchmarks (bench/run.py).

Errors are one line on stderr with a non-zero exit code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import runpy
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

MIB = 1 << 20


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _cuda_version(number: int) -> str:
    """CUDA encodes versions as 1000 * major + 10 * minor (12040 is 12.4)."""
    return f"{number // 1000}.{number % 1000 // 10}"


def _cupy_versions() -> tuple[str, str, str]:
    """(CuPy version, CUDA runtime version, CUDA driver version); "n/a" where unknown."""
    try:
        import cupy
    except Exception:
        return "not installed", "n/a", "n/a"
    version = str(getattr(cupy, "__version__", "unknown"))
    runtime, driver = "n/a", "n/a"
    try:
        runtime = _cuda_version(int(cupy.cuda.runtime.runtimeGetVersion()))
    except Exception:
        pass
    try:
        driver = _cuda_version(int(cupy.cuda.runtime.driverGetVersion()))
    except Exception:
        pass
    return version, runtime, driver


def _gpu_line(report: Any) -> str:
    f = report.facts
    cc = f"{f.compute_capability[0]}.{f.compute_capability[1]}" if f.compute_capability else "unknown"
    util = f"{report.utilization_percent}%" if report.utilization_percent is not None else "n/a"
    return (f"GPU {f.index}: {f.name}, memory {f.total_memory // MIB} MiB total, {f.free_memory // MIB} MiB free, "
            f"compute capability {cc}, utilization {util}")


def info_lines() -> list[str]:
    import gpugraph
    from gpugraph.runtime.backend import cupy_available
    from gpugraph.runtime.device_facts import survey_gpus

    ok, why = cupy_available()
    cupy_version, runtime, driver = _cupy_versions()
    survey = survey_gpus()
    lines = [f"gpugraph {gpugraph.__version__}",
             "backend: cupy" if ok else f"backend: numpy (GPU backend off: {why})",
             f"NumPy {np.__version__}; CuPy {cupy_version}; CUDA runtime {runtime}, driver {driver}"
             + (f"; NVIDIA driver {survey.driver_version}" if survey.driver_version else "")]
    if survey.reports:
        lines.append(f"GPUs ({len(survey.reports)}, from {survey.source.upper()}):")
        lines.extend("  " + _gpu_line(r) for r in survey.reports)
    else:
        lines.append(f"GPUs: none found ({survey.note})")
    return lines


class CommandError(RuntimeError):
    """A command cannot start; the message is one line meant for the user."""


def _info(args: argparse.Namespace) -> int:
    print("\n".join(info_lines()))
    return 0


# --- session settings shared by run and train ---
@contextlib.contextmanager
def _device(settings: Any) -> Iterator[None]:
    """Check that a required GPU exists and export [session] device as GPUGRAPH_DEVICE while the command runs."""
    from gpugraph.config_files import ENV_DEVICE

    device = settings.session.device
    if device == "gpu":
        from gpugraph.runtime.backend import cupy_available

        ok, why = cupy_available()
        if not ok:
            raise CommandError(f'device = "gpu" ({settings.where("session", "device")}) but no GPU backend is '
                               f"available: {why}")
    before = os.environ.get(ENV_DEVICE)
    if device != "auto":
        os.environ[ENV_DEVICE] = device
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_DEVICE, None)
        else:
            os.environ[ENV_DEVICE] = before


@contextlib.contextmanager
def _gpugraph_log() -> Iterator[None]:
    """Show the library's INFO lines (backend choice, default-config notes) on stderr while a command runs."""
    log = logging.getLogger("gpugraph")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


# --- gpugraph run ---
_RUN_FLAGS = {"--cpu": "cpu", "--log-device-placement": "log_device_placement", "--debug": "debug"}


def _take_run_options(args: argparse.Namespace) -> list[str]:
    """gpugraph's own options may also follow SCRIPT; everything after ``--`` goes to the script."""
    script_args: list[str] = []
    tokens = list(args.args)
    while tokens:
        token = tokens.pop(0)
        if token == "--":
            script_args += tokens
            break
        if token in _RUN_FLAGS:
            setattr(args, _RUN_FLAGS[token], True)
        elif token == "--config":
            if not tokens:
                raise CommandError("--config needs a file name")
            args.config = tokens.pop(0)
        elif token.startswith("--config="):
            args.config = token.split("=", 1)[1]
        else:
            script_args.append(token)
    return script_args


@contextlib.contextmanager
def _default_session_config(settings: Any) -> Iterator[None]:
    from gpugraph.config_files import session_config
    from gpugraph.runtime.default_config import get_default_config, set_default_config

    if not settings.session_is_set():
        yield  # nothing asked for: Sessions behave as in a plain `python SCRIPT.py`
        return
    before = get_default_config()
    set_default_config(session_config(settings))
    try:
        yield
    finally:
        set_default_config(before)


def _print_script_error(error: BaseException, script: str, debug: bool) -> None:
    """The script's traceback from its own frames on (the runner's frames are noise to its author)."""
    tb = error.__traceback__
    if not debug:
        while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != script:
            tb = tb.tb_next
    if tb is None and isinstance(error, SyntaxError):
        sys.stderr.write("".join(traceback.format_exception_only(type(error), error)))
    else:
        sys.stderr.write("".join(traceback.format_exception(type(error), error, tb or error.__traceback__)))


def run_script(script: str, script_args: Sequence[str], debug: bool = False) -> int:
    """Run ``script`` as ``__main__`` with ``sys.argv = [script, *script_args]``; returns its exit code."""
    path = os.path.abspath(script)
    argv, syspath = sys.argv[:], sys.path[:]
    sys.argv = [script, *script_args]
    sys.path.insert(0, os.path.dirname(path))
    try:
        runpy.run_path(path, run_name="__main__")
        return 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return int(e.code or 0)
        print(e.code, file=sys.stderr)  # sys.exit("message") prints the message and exits 1
        return 1
    except KeyboardInterrupt:
        print("KeyboardInterrupt", file=sys.stderr)
        return 130
    except Exception as e:
        sys.stdout.flush()
        _print_script_error(e, path, debug)
        return 1
    finally:
        sys.stdout.flush()
        sys.argv, sys.path[:] = argv, syspath


def _launch(args: argparse.Namespace, child_args: list[str]) -> int:
    """N ranks of this command under mpiexec: each is ``python -m gpugraph`` with ``child_args``."""
    from gpugraph.launch import mpiexec_command, run_ranks

    return run_ranks(mpiexec_command(args.np, child_args, args.hostfile, args.hosts))


def _several_ranks(args: argparse.Namespace) -> bool:
    from gpugraph.launch import inside_launch

    return args.np is not None and not inside_launch()


def _run(args: argparse.Namespace) -> int:
    from gpugraph.config_files import load_settings

    script_args = _take_run_options(args)
    if not os.path.isfile(args.script):
        raise CommandError(f"script not found: {args.script}")
    if _several_ranks(args):
        flags = [f for f, key in _RUN_FLAGS.items() if getattr(args, key)]
        config = ["--config", args.config] if args.config else []
        return _launch(args, ["run", *config, *flags, args.script, "--", *script_args])
    settings = load_settings(args.config)
    if args.cpu:
        settings.set("session", "device", "cpu", "--cpu")
    if args.log_device_placement:
        settings.set("session", "log_device_placement", True, "--log-device-placement")
    with _device(settings), _default_session_config(settings):
        return run_script(args.script, script_args, args.debug)


# --- gpugraph train ---
def _train(args: argparse.Namespace) -> int:
    from gpugraph.config_files import load_settings
    from gpugraph.trainer import Terminated, train
    from gpugraph.trainer.distributed import init_if_launched

    settings = load_settings(args.config, require_model=True)
    if _several_ranks(args):
        options = [(f"--{key.replace('_', '-')}", getattr(args, key)) for key in ("steps", "logdir", "checkpoint_dir")]
        values = [str(part) for option, value in options if value is not None for part in (option, value)]
        flags = [f"--{key}" for key in ("cpu", "quiet", "debug") if getattr(args, key)]
        return _launch(args, ["train", args.config, *values, *flags])
    init_if_launched()
    if args.steps is not None:
        settings.set("train", "steps", args.steps, "--steps")
        settings.train.epochs = 0
    if args.logdir is not None:
        settings.set("output", "logdir", args.logdir, "--logdir")
    if args.checkpoint_dir is not None:
        settings.set("output", "checkpoint_dir", args.checkpoint_dir, "--checkpoint-dir")
    if args.cpu:
        settings.set("session", "device", "cpu", "--cpu")
    with _device(settings):
        try:
            result = train(settings, quiet=args.quiet)
        except Terminated as e:  # SIGTERM: a checkpoint is saved; exit as a terminated process does
            return int(e.code or 0)
    return 130 if result.interrupted else 0


# --- gpugraph bench ---
def bench_script() -> Path | None:
    """bench/run.py of the repository gpugraph was imported from, else of the working directory."""
    for root in (Path(__file__).resolve().parents[1], Path.cwd()):
        candidate = root / "bench" / "run.py"
        if candidate.is_file() and (root / "gpugraph").is_dir():
            return candidate
    return None


def _bench(args: argparse.Namespace) -> int:
    script = bench_script()
    if script is None:
        raise CommandError("the benchmarks live in the gpugraph source repository (bench/run.py), which this "
                           "installation does not include; run it from a clone")
    root = script.parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, str(script)] + (["--write"] if args.write else [])
    with subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:  # pass the table on as it comes (sys.stdout may be redirected)
            sys.stdout.write(line)
            sys.stdout.flush()
    return proc.returncode


# --- the parser ---
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_rank_options(parser: argparse.ArgumentParser, *names: str) -> None:
    parser.add_argument(*names, dest="np", type=_positive_int, metavar="N",
                        help="run N ranks under mpiexec (needs the [mpi] extra); see gpugraph.horovod")
    parser.add_argument("--hostfile", metavar="FILE", help="with -n: MPICH hostfile, one 'host:slots' a line")
    parser.add_argument("-H", "--hosts", metavar="HOST:N,...", help="with -n: hosts and their rank counts")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gpugraph", description="gpugraph: TensorFlow 1.x graph mode on CuPy or NumPy.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    info = commands.add_parser("info", help="versions, the backend in use and the GPUs found")
    info.set_defaults(run=_info)

    run = commands.add_parser(
        "run", help="run a TF1-style script with session defaults from a config",
        description="Run SCRIPT.py as __main__ (sys.argv = [SCRIPT, *ARGS]). The [session] settings of --config "
                    "(and GPUGRAPH_* environment variables) become the defaults of every Session the script "
                    "makes; a config= given in the script wins. gpugraph's options may come before or after "
                    "SCRIPT; put -- before script arguments that look like them.")
    run.add_argument("--config", metavar="FILE.toml", help="TOML config whose [session] settings to apply")
    run.add_argument("--cpu", action="store_true", help="run on NumPy even with a GPU (sets GPUGRAPH_DEVICE=cpu)")
    run.add_argument("--log-device-placement", action="store_true", help="log the device of each op")
    run.add_argument("--debug", action="store_true", help="show tracebacks in full, gpugraph's frames too")
    _add_rank_options(run, "-n", "--np")
    run.add_argument("script", metavar="SCRIPT.py")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments for the script")
    run.set_defaults(run=_run)

    train = commands.add_parser(
        "train", help="train a built-in model described by a TOML config",
        description="Train the model of CONFIG.toml ([model], [data], [train], [output], [session]). With "
                    "[output] checkpoint_dir, a restart resumes from the latest intact checkpoint, and Ctrl-C "
                    "or SIGTERM saves one before stopping (exit code 130 or 143).")
    train.add_argument("config", metavar="CONFIG.toml")
    train.add_argument("--steps", type=_positive_int, metavar="N", help="total steps, instead of the config's")
    train.add_argument("--logdir", metavar="DIR", help="TensorBoard directory, instead of the config's")
    train.add_argument("--checkpoint-dir", metavar="DIR", help="checkpoint directory, instead of the config's")
    train.add_argument("--cpu", action="store_true", help="train on NumPy even with a GPU")
    train.add_argument("--quiet", action="store_true", help="no progress bar or progress lines; only the final metrics")
    train.add_argument("--debug", action="store_true", help="show the traceback of an error")
    _add_rank_options(train, "--np", "-n")
    train.set_defaults(run=_train)

    bench = commands.add_parser("bench", help="run the repository's benchmarks (bench/run.py)")
    bench.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    bench.add_argument("--debug", action="store_true", help="show the traceback of an error")
    bench.set_defaults(run=_bench)
    return parser


def _one_line(error: BaseException) -> str:
    from gpugraph.config_files import ConfigError
    from gpugraph.launch import LaunchError
    from gpugraph.trainer import DataError, TrainError

    if isinstance(error, (CommandError, ConfigError, DataError, TrainError, LaunchError)):
        return str(error)  # already written for the user
    return f"{type(error).__name__}: {error}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with contextlib.ExitStack() as stack:
            if args.command in ("run", "train"):
                stack.enter_context(_gpugraph_log())
            return int(args.run(args))
    except KeyboardInterrupt:
        print(f"gpugraph {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one line, not a traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            print(f"gpugraph {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
