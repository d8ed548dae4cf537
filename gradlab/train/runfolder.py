"""Run folders: what a training run may write into, checked before anything is touched.

A run folder (``gradlab train --out DIR``, :func:`gradlab.train.experiment.run_training`,
:func:`gradlab.train.charlm.train_charlm`) holds the files of :data:`RUN_FILES`. A new run needs a missing or
empty folder; ``resume`` continues the run of a folder (from its ``checkpoint/``, or from scratch when the folder
holds nothing but run files and no checkpoint yet); ``overwrite`` replaces an earlier run's files once training
starts (files that are not run files are left alone). Anything else is refused with :class:`RunFolderError`
before a single file is written.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> check_run_folder(d / "new", resume=False, overwrite=False)
'new'
>>> _ = (d / "notes.txt").write_text("mine")
>>> check_run_folder(d, resume=False, overwrite=False)  # doctest: +ELLIPSIS
Traceback (most recent call last):
gradlab.train.runfolder.RunFolderError: ... is not empty ...
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

__all__ = ["RUN_FILES", "RunFolderError", "check_run_folder", "start_run_folder", "remove_orphan_tmp_files",
           "read_run_config"]

#: The names a training run writes in its folder.
RUN_FILES = frozenset({"config.json", "vocab.json", "weights.safetensors", "history.json", "curves.png",
                       "results.json", "checkpoint", "distributed.json", "monitor"})

# what an interrupted atomic write leaves: ".<name>.tmp<pid>" (JSON, weights) or ".curves.tmp<pid>.png"
_TMP = re.compile(r"^\.(?:(?:config|vocab|history|results|distributed)\.json|weights\.safetensors)\.tmp\d+$"
                  r"|^\.curves\.tmp\d+\.png$")


class RunFolderError(FileExistsError):
    """The run folder cannot be used as asked (not empty without resume/overwrite, or not a run folder).

    >>> isinstance(RunFolderError("x"), OSError)
    True
    """


def _entries(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def check_run_folder(out: str | os.PathLike, resume: bool, overwrite: bool) -> str:
    """How a run may use ``out``: ``'new'``, ``'resume'`` or ``'overwrite'``; :class:`RunFolderError` otherwise.

    Reads only: nothing is created or changed.

    >>> import tempfile
    >>> check_run_folder(tempfile.mkdtemp(), resume=True, overwrite=False)
    'new'
    """
    out = Path(out)
    if resume and overwrite:
        raise RunFolderError("resume and overwrite exclude each other: continue the run, or replace it")
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{out} is a file, not a run folder")
    if not out.exists():
        return "new"
    names = [n for n in _entries(out) if not _TMP.match(n)]
    if not names:
        return "new"
    if overwrite:
        return "overwrite"
    if resume:
        strangers = [n for n in names if n not in RUN_FILES]
        if strangers and not (out / "checkpoint" / "checkpoint.json").is_file():
            raise RunFolderError(f"{out} is not a run folder (it holds {', '.join(strangers[:3])}"
                                 f"{' ...' if len(strangers) > 3 else ''} and no checkpoint/): nothing to resume")
        return "resume"
    what = "a finished run" if "weights.safetensors" in names else (
        "an unfinished run" if "checkpoint" in names or "config.json" in names else "other files")
    raise RunFolderError(f"{out} is not empty (it holds {what}): resume it, overwrite it, or choose another folder")


def remove_orphan_tmp_files(out: str | os.PathLike) -> list[str]:
    """Delete the temporary files that killed atomic writes left in the run folder ``out``; returns their names.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / ".history.json.tmp123").write_text("{")
    >>> remove_orphan_tmp_files(d)
    ['.history.json.tmp123']
    """
    out = Path(out)
    removed = []
    if out.is_dir():
        for name in _entries(out):
            if _TMP.match(name) and (out / name).is_file():
                (out / name).unlink(missing_ok=True)
                removed.append(name)
    return removed


def start_run_folder(out: str | os.PathLike, mode: str) -> Path:
    """Make ``out`` ready for training that starts now: create it, drop orphan temporary files and, for
    ``mode='overwrite'``, the earlier run's files (only :data:`RUN_FILES`; a ``checkpoint/`` only if it holds
    nothing else than a checkpoint's files).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "results.json").write_text("{}")
    >>> _ = start_run_folder(d, "overwrite"); sorted(p.name for p in d.iterdir())
    []
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_orphan_tmp_files(out)
    if mode == "overwrite":
        for name in sorted(RUN_FILES - {"checkpoint"}):
            if (out / name).is_file():
                (out / name).unlink()
        ckpt = out / "checkpoint"
        if ckpt.is_dir() and all(p.is_file() and (p.name == "checkpoint.json" or ".safetensors" in p.name
                                                  or ".tmp" in p.name) for p in ckpt.iterdir()):
            shutil.rmtree(ckpt)
    return out


def read_run_config(run_dir: str | os.PathLike) -> tuple[Path, dict]:
    """``(folder, config)`` of a finished run: FileNotFoundError when ``config.json`` or ``weights.safetensors`` is
    missing, ValueError naming the file when the config is not a JSON object.

    >>> read_run_config("no-such-run")
    Traceback (most recent call last):
        ...
    FileNotFoundError: no-such-run: no config.json (is this a finished 'gradlab train' run folder?)
    """
    from gradlab.train.jsonfile import read_json

    run = Path(run_dir)
    for name in ("config.json", "weights.safetensors"):
        if not (run / name).is_file():
            raise FileNotFoundError(f"{run}: no {name} (is this a finished 'gradlab train' run folder?)")
    config = read_json(run / "config.json")
    if not isinstance(config, dict):
        raise ValueError(f"{run / 'config.json'} is not a gradlab train config (a JSON object)")
    return run, config
