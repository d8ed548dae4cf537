"""Hyperparameter search on Optuna (an optional extra: ``pip install optuna`` or ``'gradlab[tune]'``), the engine of
``gradlab tune``.

A study lives in a run folder: ``tune.json`` (the base config, the search space and the settings), the Optuna
storage (``study.db``, SQLite, by default; ``journal`` for Optuna's journal file; or any SQLAlchemy URL), and after
the search ``best.json``, ``trials.csv`` and the plots ``history.png``, ``importances.png``, ``lr.png``. Each trial
trains a configuration drawn from the space (random sampling by default, TPE on request) and is scored by the
validation accuracy of its last epoch, averaged over K folds with ``cv`` (scikit-learn's ``StratifiedKFold``); the
accuracy of every epoch is reported to Optuna, whose median pruner stops trials that trail the others. ``workers``
processes share the study (trial numbers come from the storage, so none is lost or run twice); with the SQLite
storage a heartbeat marks the trial of a killed worker failed, and ``resume`` continues the stored study.

>>> train_command({"dataset": "mnist", "model": "lenet5", "optimizer": "sgd", "lr": 0.01, "epochs": 2,
...                "batch_size": 64})
'gradlab train --dataset mnist --model lenet5 --optimizer sgd --lr 0.01 --epochs 2 --batch-size 64'
"""
from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.train.tune_report import train_command, write_report

__all__ = ["import_optuna", "run_tune", "train_command", "open_storage", "score_config", "STUDY_NAME"]

STUDY_NAME = "gradlab-tune"


def import_optuna() -> Any:
    """Optuna, or an ImportError naming what to install.

    >>> import pytest
    >>> _ = pytest.importorskip("optuna")  # the 'tune' extra
    >>> import_optuna().__name__
    'optuna'
    """
    try:
        import optuna
    except ImportError:
        raise ImportError("gradlab tune needs Optuna: pip install optuna (or pip install 'gradlab[tune]')") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_storage(out: Path, storage: str | None, heartbeat: int = 30) -> Any:
    """The Optuna storage of a study in ``out``: SQLite ``out/study.db`` (default), ``"journal"`` (Optuna's journal
    file ``out/study.journal``: no heartbeat), or an SQLAlchemy URL. RDB storages get a heartbeat every
    ``heartbeat`` seconds; a trial silent for twice that is marked failed.

    >>> import pytest, tempfile
    >>> _ = pytest.importorskip("optuna")  # the 'tune' extra
    >>> with tempfile.TemporaryDirectory() as d:
    ...     storage = open_storage(Path(d), "journal")
    ...     files = os.listdir(d)
    >>> type(storage).__name__, files
    ('JournalStorage', ['study.journal'])
    """
    optuna = import_optuna()
    if storage == "journal":
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(str(out / "study.journal")))
    url = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    kw: dict[str, Any] = {"heartbeat_interval": heartbeat, "grace_period": 2 * heartbeat}
    if url.startswith("sqlite"):
        kw["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the heartbeat is "experimental"
        return optuna.storages.RDBStorage(url, **kw)


def _folds(y: np.ndarray, cv: int | None, val_split: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if cv:
        from sklearn.model_selection import KFold, StratifiedKFold

        counts = np.bincount(y) if y.dtype.kind in "iu" and len(y) and y.min() >= 0 else np.array([0])
        splitter: Any = StratifiedKFold(cv, shuffle=True, random_state=seed) if counts[counts > 0].min() >= cv \
            else KFold(cv, shuffle=True, random_state=seed)
        return [(tr, va) for tr, va in splitter.split(np.zeros(len(y)), y)]
    from gradlab.train.experiment import split_sizes

    n_train, n_val = split_sizes(len(y), val_split or 0.1)
    perm = np.random.default_rng(seed).permutation(len(y))
    return [(perm[:n_train], perm[n_train:])]


def score_config(config: dict[str, Any], x: np.ndarray, y: np.ndarray, info: dict[str, Any],
                 folds: list[tuple[np.ndarray, np.ndarray]], report: Callable[[int, float], None] | None = None,
                 ) -> float:
    """Train ``config`` on every fold and return the mean validation accuracy of the last epoch; ``report(step,
    accuracy)`` is called after every epoch (step ``fold * epochs + epoch``) and may raise to stop the trial.

    >>> from gradlab.train.experiment import make_config
    >>> x = np.random.default_rng(0).standard_normal((24, 1, 2, 2)).astype(np.float32)
    >>> y = (x[:, 0, 0, 0] > 0).astype(np.int64)
    >>> idx = np.arange(24); folds = [(idx[:16], idx[16:]), (idx[8:], idx[:8])]
    >>> steps = []
    >>> acc = score_config(make_config(hidden=(8,), epochs=1, batch_size=8), x, y,
    ...                    {"input_shape": [1, 2, 2], "num_classes": 2}, folds, report=lambda s, a: steps.append(s))
    >>> 0.0 <= acc <= 1.0, steps
    (True, [0, 1])
    """
    import gradlab
    from gradlab import nn
    from gradlab.data import DataLoader, TensorDataset
    from gradlab.train.base import Callback
    from gradlab.train.experiment import build_from_config, build_optimizer, build_scheduler
    from gradlab.train.loop import fit

    epochs = int(config["epochs"])
    scores = []
    for k, (tr, va) in enumerate(folds):
        gradlab.manual_seed(int(config["seed"]) + k)
        train = DataLoader(TensorDataset(gradlab.from_numpy(x[tr]), gradlab.from_numpy(y[tr])),
                           batch_size=int(config["batch_size"]), shuffle=True,
                           generator=gradlab.Generator(int(config["seed"]) + 1))
        val = DataLoader(TensorDataset(gradlab.from_numpy(x[va]), gradlab.from_numpy(y[va])), batch_size=1000)
        model = build_from_config(config, info)
        opt = build_optimizer(config["optimizer"], model.parameters(), config["lr"], config.get("momentum", 0.0),
                              config.get("weight_decay", 0.0))
        sched = build_scheduler(config.get("scheduler"), opt, epochs, len(train), config["lr"])

        class _Report(Callback):
            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None, _k: int = k) -> None:
                if report is not None:
                    report(_k * epochs + epoch, float((logs or {}).get("val_accuracy", 0.0)))

        hist = fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs=epochs, callbacks=[_Report()],
                   scheduler=sched, progress=False, clip_grad_norm=config.get("clip_grad_norm"))
        scores.append(float(hist.history["val_accuracy"][-1]))
    return float(np.mean(scores))


def _objective(settings: dict[str, Any], data: tuple[Any, ...]) -> Callable[[Any], float]:
    optuna = import_optuna()
    from gradlab.train.search_space import suggest_config

    x, y, info, folds = data

    def objective(trial: Any) -> float:
        config = suggest_config(trial, settings["space"], settings["base"])
        trial.set_user_attr("config", config)
        trial.set_user_attr("worker_pid", os.getpid())

        def report(step: int, acc: float) -> None:
            trial.report(acc, step)
            if settings.get("prune", True) and trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {step} (val accuracy {acc:.4f})")

        try:
            return score_config(config, x, y, info, folds, report)
        except FloatingPointError as e:  # diverged (NaN loss): a bad configuration, not a broken trial
            trial.set_user_attr("diverged", str(e).splitlines()[0])
            raise optuna.TrialPruned("diverged") from None

    return objective


def _finished(study: Any) -> int:
    optuna = import_optuna()
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=done))


def _sampler(settings: dict[str, Any], index: int, n_existing: int) -> Any:
    optuna = import_optuna()
    seed = int(settings["seed"]) + 1009 * index + 7919 * n_existing  # distinct per worker and per resume
    if settings["sampler"] == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(2, settings["trials"] // 3)))
    return optuna.samplers.RandomSampler(seed=seed)


def _worker(out: Path, settings: dict[str, Any], n_trials: int, index: int, data_dir: str | None) -> None:
    """One worker: load the study and run ``n_trials`` trials of it."""
    optuna = import_optuna()
    from gradlab.train.experiment import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning about the heartbeat
        storage = open_storage(out, settings["storage"], settings["heartbeat"])
    x, y, info = load_dataset(settings["base"]["dataset"], train=True, root=data_dir, limit=settings["base"]["limit"])
    folds = _folds(y, settings["cv"], settings["base"].get("val_split", 0.1), int(settings["seed"]))
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    study = optuna.load_study(study_name=STUDY_NAME, storage=storage, pruner=pruner,
                              sampler=_sampler(settings, index, len(optuna.load_study(
                                  study_name=STUDY_NAME, storage=storage).trials)))
    with np.errstate(all="ignore"):
        study.optimize(_objective(settings, (x, y, info, folds)), n_trials=n_trials, gc_after_trial=False)


def _blas_share(workers: int) -> int:
    """BLAS threads for each of ``workers`` worker processes: the cores split between them (at least one each), so
    that two workers on two cores do not each start two BLAS threads and fight over the cores.

    >>> _blas_share(1) >= 1, _blas_share(10**6)
    (True, 1)
    """
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _fork_worker(out: Path, settings: dict[str, Any], n: int, index: int, data_dir: str | None,
                 workers: int = 1) -> None:
    try:
        from threadpoolctl import threadpool_limits  # a scikit-learn dependency, so always there

        threadpool_limits(_blas_share(workers), "blas")
        _worker(out, settings, n, index, data_dir)
    except BaseException as e:  # report and exit non-zero; the parent says which worker failed
        print(f"gradlab tune: worker {index}: {type(e).__name__}: {e}", file=sys.stderr)
        os._exit(1)


def run_tune(out: str | os.PathLike, base: dict[str, Any], space: dict[str, dict[str, Any]], trials: int = 20,
             sampler: str = "random", seed: int = 0, cv: int | None = None, storage: str | None = None,
             workers: int = 1, resume: bool = False, heartbeat: int = 30, prune: bool = True,
             data_dir: str | None = None, log: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Run (or with ``resume`` continue) a search until ``trials`` trials have finished (completed or pruned;
    failed ones are retried), with ``workers`` processes on one stored study; then write the report files and
    return ``{"best_value", "best_config", "command", "trials": [...]}``.

    >>> import pytest
    >>> _ = pytest.importorskip("optuna")  # the 'tune' extra
    >>> run_tune("no-such-study", base={}, space={}, sampler="grid")  # checked before anything is written
    Traceback (most recent call last):
        ...
    ValueError: sampler must be 'random' or 'tpe', got 'grid'
    """
    optuna = import_optuna()
    from gradlab.train.jsonfile import read_json, write_json
    from gradlab.train.search_space import check_space

    say = log or (lambda s: None)
    out = Path(out)
    if sampler not in ("random", "tpe"):
        raise ValueError(f"sampler must be 'random' or 'tpe', got {sampler!r}")
    if trials < 1 or workers < 1:
        raise ValueError(f"trials and workers must be >= 1, got {trials} and {workers}")
    if cv is not None and cv < 2:
        raise ValueError(f"cv must be >= 2 folds, got {cv}")
    settings_path = out / "tune.json"
    if resume:
        if not settings_path.is_file():
            raise FileNotFoundError(f"{out}: no tune.json to resume (start the search without --resume)")
        settings = read_json(settings_path)
        settings["trials"] = trials
    else:
        if out.exists() and any(out.iterdir()):
            raise FileExistsError(f"{out} is not empty: continue its search with --resume, or choose another --out")
        settings = {"base": base, "space": check_space(space), "trials": trials, "sampler": sampler, "seed": seed,
                    "cv": cv, "storage": storage, "heartbeat": heartbeat, "prune": prune}
        out.mkdir(parents=True, exist_ok=True)
        write_json(settings_path, settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = open_storage(out, settings["storage"], settings["heartbeat"])
        study = optuna.create_study(study_name=STUDY_NAME, storage=store, direction="maximize", load_if_exists=True)
        if resume:  # the trials of killed workers (heartbeat silent past the grace period) become FAIL
            optuna.storages.fail_stale_trials(study)
    remaining = max(0, trials - _finished(study))
    say(f"tuning {base.get('model')} on {base.get('dataset')}: {remaining} trial(s) to run "
        f"({_finished(study)} finished) with {workers} worker(s), {settings['sampler']} sampler, "
        + (f"{settings['cv']}-fold cross-validation" if settings["cv"] else "one validation split"))
    shares = [remaining // workers + (i < remaining % workers) for i in range(workers)]
    shares = [s for s in shares if s]
    if len(shares) == 1:
        _worker(out, settings, shares[0], 0, data_dir)
    elif shares:
        import multiprocessing as mp

        ctx: Any = mp.get_context("fork" if sys.platform != "win32" else "spawn")
        procs = [
            ctx.Process(target=_fork_worker, args=(out, settings, n, i, data_dir, len(shares)))
            for i, n in enumerate(shares)
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (the heartbeat): children are fresh
            for p in procs:
                p.start()
        for p in procs:
            p.join()
        bad = [i for i, p in enumerate(procs) if p.exitcode != 0]
        if bad:
            raise RuntimeError(f"tune worker(s) {bad} failed (exit codes {[procs[i].exitcode for i in bad]}); "
                               "continue the study with --resume")
    return write_report(out, optuna.load_study(study_name=STUDY_NAME, storage=store), say)
