"""The data-parallel side of ``gradlab train`` (``mpiexec -n N gradlab train ... --distributed``): its checks and
its run function.

The engine is :func:`gradlab.train.distributed_run.run_training_distributed`; this module checks the options,
starts the MPI process group and lets rank 0 alone print. A check that fails before training is reported once, by
rank 0: the other ranks, which fail the same way, exit with the same status quietly.

>>> import argparse
>>> check_distributed_options(argparse.Namespace(device="cuda", model="mlp", text=None, on_nan="raise"))
Traceback (most recent call last):
gradlab.cli._parser.UsageError: --distributed trains on the CPU only for now: drop --device cuda
"""
from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradlab.cli._charlm import TEXT_MODELS
from gradlab.cli._parser import UsageError, check_out

__all__ = ["check_distributed_options", "run_distributed"]


def check_distributed_options(args: argparse.Namespace) -> None:
    """UsageError for the options ``--distributed`` does not support (yet), and when mpi4py is missing.

    >>> check_distributed_options(argparse.Namespace(device="cpu", model="charlstm", text=None, on_nan="raise"))
    Traceback (most recent call last):
    gradlab.cli._parser.UsageError: --distributed does not train the character-level model (--model charlstm / \
--text) for now
    """
    if str(args.device).split(":")[0] != "cpu":
        raise UsageError(f"--distributed trains on the CPU only for now: drop --device {args.device}")
    if args.model in TEXT_MODELS or args.text:
        raise UsageError("--distributed does not train the character-level model (--model charlstm / --text) "
                         "for now")
    if args.on_nan != "raise":
        raise UsageError(f"--on-nan {args.on_nan} is not available with --distributed (it would decide on one "
                         "rank's loss while the others wait): use --on-nan raise")
    from gradlab.distributed import is_available

    if not is_available():
        raise UsageError("--distributed needs mpi4py and an MPI runtime: pip install 'gradlab[mpi]'")


def run_distributed(args: argparse.Namespace, make_config: Callable[[argparse.Namespace, str], dict],
                    report: Callable[[dict, Path], Any]) -> int:
    """``gradlab train --distributed``: train on every rank; rank 0 prints the results, the others return 0.

    ``make_config(args, mode)`` is ``gradlab train``'s config of the options (the saved one with ``--resume``);
    ``report(results, out)`` prints the results.

    >>> callable(run_distributed)
    True
    """
    from gradlab.distributed import launcher_world

    launched = launcher_world()
    rank = launched[0] if launched is not None else 0
    try:
        check_distributed_options(args)
        return _train(args, rank, make_config, report)
    except UsageError:
        if rank == 0:
            raise
        return 2  # every rank fails these checks alike: rank 0 says why
    except Exception as e:
        from gradlab.train.distributed_run import OtherRankFailed

        if isinstance(e, OtherRankFailed) and rank != 0:
            return 1  # rank 0 (or the rank that failed) says why
        raise


def _train(args: argparse.Namespace, rank: int, make_config: Callable[[argparse.Namespace, str], dict],
           report: Callable[[dict, Path], Any]) -> int:
    from gradlab.train.callbacks import ProgressBar
    from gradlab.train.distributed_run import run_training_distributed

    out = Path(args.out)
    mode = check_out(out, args)
    with contextlib.redirect_stderr(io.StringIO()) if rank != 0 else contextlib.nullcontext():
        config = make_config(args, mode)  # its notes on stderr: once, from rank 0
    results = run_training_distributed(config, out, data_dir=args.data_dir, resume=args.resume, progress=False,
                                       callbacks=[ProgressBar(bar=not args.no_progress)],
                                       check_weights=args.check_weights, backend="mpi", overwrite=args.overwrite)
    if results["rank"] == 0:
        report(results, out)
    return 0
