"""Callbacks that report progress: :class:`ProgressBar` (tqdm) and :class:`CSVLogger`."""
from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.train.base import Callback

__all__ = ["ProgressBar", "CSVLogger"]


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


class ProgressBar(Callback):
    """A tqdm bar per epoch with the running loss and metrics in its postfix, and a one-line epoch summary.

    Args:
        disable: no bar and no summary (``fit(..., progress=False)`` leaves the bar out altogether).
        bar: show the tqdm bar (``False``: only the epoch summaries).
        update_every: refresh the postfix every this many batches (formatting it is the bar's only per-batch cost).
        file: where the bar goes (default ``sys.stderr``); ``summary_file``: where summaries go (``sys.stdout``).

    >>> from types import SimpleNamespace
    >>> pb = ProgressBar(bar=False)
    >>> pb.set_state(SimpleNamespace(epochs=3))
    >>> pb.on_train_begin()
    >>> pb.on_epoch_end(0, {"loss": 0.25, "val_loss": 0.5, "time": 1.5})
    epoch 1/3: loss=0.2500 val_loss=0.5000 (1.5s)
    """

    def __init__(self, disable: bool = False, bar: bool = True, update_every: int = 10, file: Any = None,
                 summary_file: Any = None, leave: bool = False) -> None:
        self.disable = disable
        self.bar = bar
        self.update_every = max(int(update_every), 1)
        self.file = file
        self.summary_file = summary_file
        self.leave = leave
        self._bar: Any = None
        self._epochs = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._epochs = getattr(self.state, "epochs", 0) or 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.disable or not self.bar:
            return
        from tqdm.auto import tqdm

        try:
            total = len(self.state.train_loader)
        except (TypeError, AttributeError, NotImplementedError):
            total = None
        self._bar = tqdm(
            total=total, desc=f"epoch {epoch + 1}/{self._epochs}", unit="batch", leave=self.leave,
            file=self.file if self.file is not None else sys.stderr, dynamic_ncols=True,
        )

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        bar = self._bar
        if bar is None:
            return
        if logs is not None and (batch % self.update_every == 0 or batch + 1 == bar.total):
            shown = {k: v for k, v in logs.items() if k not in ("batch_loss", "size")}
            bar.set_postfix_str(" ".join(f"{k}={_fmt(v)}" for k, v in shown.items()), refresh=False)
        bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._close()
        if self.disable:
            return
        parts = [f"{k}={_fmt(v)}" for k, v in (logs or {}).items() if k not in ("lr", "time")]
        if logs and "time" in logs:
            parts.append(f"({logs['time']:.1f}s)")
        print(f"epoch {epoch + 1}/{self._epochs}: " + " ".join(parts),
              file=self.summary_file if self.summary_file is not None else sys.stdout, flush=True)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_exception(self, exc: BaseException) -> None:
        self._close()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` 1-based, then the logs) to a CSV file, flushed after every row.

    ``append=True`` continues an existing file (its header is kept), as after resuming a run. The file's length
    after each row is part of the callback's state: a run resumed from a checkpoint first cuts the rows written
    after that checkpoint (an interrupted epoch's), so every epoch appears once.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> log = CSVLogger(path)
    >>> log.on_train_begin(); log.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75}); log.on_train_end()
    >>> print(open(path).read().strip())
    epoch,loss,accuracy
    1,0.5,0.75
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        self.filename = Path(filename)
        self.separator = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file: Any = None
        self._writer: Any = None
        self._offset: int | None = None  # the file's length after the last row written

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        resumed = getattr(self.state, "resumed", False)
        keep = (self.append or resumed) and self.filename.is_file() and self.filename.stat().st_size > 0
        if keep:
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self.keys = header[1:] if header else None
        else:
            self.keys = None
        if keep and resumed and self._offset is not None and self.filename.stat().st_size > self._offset:
            with open(self.filename, "r+b") as f:  # rows of epochs after the checkpoint: they will be redone
                f.truncate(self._offset)
        self._file = open(self.filename, "a" if keep else "w", newline="")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self._file is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = list(logs)
            csv.writer(self._file, delimiter=self.separator).writerow(["epoch", *self.keys])
        row = [epoch + 1] + [_csv_value(logs.get(k, "")) for k in self.keys]
        csv.writer(self._file, delimiter=self.separator).writerow(row)
        self._file.flush()
        self._offset = self._file.tell()

    def state_dict(self) -> dict[str, Any]:
        """The file's length after the last row (``{}`` before the first row)."""
        return {} if self._offset is None else {"offset": int(self._offset)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; an open file is cut back to that length at once."""
        if "offset" not in state:
            return
        self._offset = int(state["offset"])
        if self._file is not None:
            self._file.flush()
            if self._file.tell() > self._offset:
                self._file.truncate(self._offset)

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def on_exception(self, exc: BaseException) -> None:
        self._close()


def _csv_value(v: Any) -> Any:
    return repr(float(v)) if isinstance(v, (float, np.floating)) else v
