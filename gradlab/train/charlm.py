"""Character-level language modelling end to end: train a ``CharLSTM`` or a ``CharTransformer`` on a UTF-8 text
file and sample from it.

The engine behind ``gradlab train --model charlstm|transformer --text FILE`` and ``gradlab sample RUN_DIR`` (their
command-line
side is :mod:`gradlab.cli._charlm` and :mod:`gradlab.cli.sample`; this module never imports the CLI). A run folder holds
``config.json`` (model settings), ``vocab.json`` (the characters, so sampling rebuilds the same ids),
``weights.safetensors``, ``checkpoint/`` (for ``--resume``), ``history.json``, ``curves.png`` (training and
validation loss per epoch) and ``results.json`` (final validation loss, in nats and bits per character).
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradlab
from gradlab.data import DataLoader
from gradlab.data.text import Vocab, char_datasets
from gradlab.models.registry import build_model
from gradlab.models.sampling import sample
from gradlab.nn import functional as F
from gradlab.train.jsonfile import read_json, write_json

__all__ = ["CharLMLoss", "TEXT_MODELS", "train_charlm", "load_charlm", "sample_run"]

#: The registered models that ``train_charlm`` trains (character ids in, next-character logits out).
TEXT_MODELS = ("charlstm", "transformer")

class CharLMLoss:
    """Mean cross-entropy of next-character logits ``(N, T, V)`` against targets ``(N, T)``.

    >>> logits = gradlab.zeros(2, 3, 4)  # uniform over 4 characters
    >>> round(CharLMLoss()(logits, gradlab.zeros(2, 3, dtype=gradlab.int64)).item(), 4)  # log(4)
    1.3863
    """

    def __call__(self, logits: Any, target: Any) -> Any:
        v = logits.shape[-1]
        return F.cross_entropy(logits.reshape(-1, v), target.reshape(-1))


def train_charlm(
    text: str | os.PathLike, out: str | os.PathLike, *, seq_len: int = 100, batch_size: int = 64,
    embedding_dim: int = 64, hidden_size: int = 256, num_layers: int = 2, dropout: float = 0.0,
    optimizer: str = "adam", lr: float = 2e-3, weight_decay: float = 0.0, epochs: int = 10,
    clip_grad_norm: float | None = 5.0, val_split: float = 0.1, seed: int = 0, limit: int | None = None,
    resume: bool = False, progress: bool = True, callbacks: Sequence[Any] = (),
    log: Callable[[str], None] | None = print, on_nan: str = "raise", overwrite: bool = False,
    model: str = "charlstm", model_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train a character-level model on the UTF-8 file ``text`` (the last ``val_split`` of it held out) and write
    the run folder ``out``. ``model`` names it in the registry (``'charlstm'``, the default, or ``'transformer'``);
    ``model_kwargs`` are its keyword arguments besides ``vocab_size`` (for ``'charlstm'`` they default to
    ``embedding_dim``, ``hidden_size``, ``num_layers`` and ``dropout``; a transformer's ``context`` defaults to
    ``seq_len`` and must be at least ``seq_len``). ``limit`` keeps only the first ``limit`` characters (quick
    runs). Returns the results (``val_loss``, ``val_bpc``, ``history``, ...). ``on_nan``: as
    :func:`gradlab.train.fit`'s. The text, the model and the folder are checked before ``out`` is touched; ``out``
    must be missing or empty unless ``resume`` or ``overwrite`` (:mod:`gradlab.train.runfolder`).

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> text = Path(tmp.name) / "t.txt"
    >>> _ = text.write_text("hello world, " * 8, encoding="utf-8")
    >>> run = Path(tmp.name) / "run"
    >>> res = train_charlm(text, run, seq_len=8, batch_size=4, embedding_dim=4, hidden_size=8, num_layers=1,
    ...                    epochs=1, progress=False, log=None)

    >>> sorted(p.name for p in run.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['checkpoint', 'config.json', 'curves.png', 'history.json', 'results.json', 'vocab.json',
     'weights.safetensors']
    >>> res["epochs"], res["val_loss"] > 0
    (1, True)
    >>> tmp.cleanup()
    """
    from gradlab.train.checkpoint import CHECKPOINT_DIRNAME, has_checkpoint, save_weights
    from gradlab.train.experiment import build_optimizer
    from gradlab.train.finite import check_on_nan
    from gradlab.train.loop import fit
    from gradlab.train.runfolder import check_run_folder, start_run_folder

    say = log or (lambda s: None)
    text_path = Path(text)
    out = Path(out)
    check_on_nan(on_nan)
    if model not in TEXT_MODELS:
        raise ValueError(f"model must be one of {TEXT_MODELS}, got {model!r}")
    kwargs = _model_kwargs(model, model_kwargs, seq_len, embedding_dim, hidden_size, num_layers, dropout)
    mode = check_run_folder(out, resume=resume, overwrite=overwrite)
    config: dict[str, Any] = {
        "task": "charlm", "model": model, "text": str(text_path), "seq_len": int(seq_len),
        "batch_size": int(batch_size), "optimizer": optimizer, "lr": float(lr), "weight_decay": float(weight_decay),
        "epochs": int(epochs), "clip_grad_norm": clip_grad_norm, "val_split": float(val_split), "seed": int(seed),
        "limit": limit, "gradlab_version": gradlab.__version__,
    }
    gradlab.manual_seed(seed)
    train_ds, val_ds, vocab = char_datasets(text_path, seq_len, val_split, limit=limit)
    config["model_kwargs"] = {"vocab_size": len(vocab), **kwargs}
    net = build_model(model, **config["model_kwargs"])
    opt = build_optimizer(optimizer, net.parameters(), lr, weight_decay=weight_decay)
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=gradlab.Generator(seed + 1))
    val_loader = DataLoader(val_ds, batch_size=batch_size) if val_ds is not None else None
    ckpt = out / CHECKPOINT_DIRNAME
    resume_from = ckpt if mode == "resume" and has_checkpoint(ckpt) else None
    start_run_folder(out, mode)  # everything checked: training starts, the folder is written from here on
    write_json(out / "config.json", config)
    vocab.save(out / "vocab.json")
    say(f"training {model} on {text_path.name}: {len(vocab)} characters in the vocabulary, "
        f"{len(train_ds)} train / {0 if val_ds is None else len(val_ds)} validation windows of {seq_len}, "
        f"{epochs} epochs" + (f", resuming from {resume_from}" if resume_from else ""))
    t0 = time.perf_counter()
    history = fit(net, CharLMLoss(), opt, train_loader, val_loader, epochs=epochs, callbacks=list(callbacks),
                  metrics=("accuracy",), checkpoint_dir=ckpt, resume_from=resume_from, progress=progress,
                  clip_grad_norm=clip_grad_norm, on_nan=on_nan)
    train_time = time.perf_counter() - t0
    save_weights(net, out / "weights.safetensors")
    history.to_json(out / "history.json")
    if len(history):
        history.plot(out / "curves.png", title=f"{model} on {text_path.name} (loss in nats per character)")
    hist = history.history
    val_loss = hist["val_loss"][-1] if hist.get("val_loss") else None
    results = {"val_loss": val_loss, "val_bpc": None if val_loss is None else val_loss / math.log(2),
               "train_loss": hist["loss"][-1] if hist.get("loss") else None, "epochs": len(history),
               "train_time_s": train_time, "stopped": history.stop_reason}
    write_json(out / "results.json", results)
    return {**results, "history": history, "model": net, "vocab": vocab}


def _model_kwargs(model: str, given: dict[str, Any] | None, seq_len: int, embedding_dim: int, hidden_size: int,
                  num_layers: int, dropout: float) -> dict[str, Any]:
    """The model's keyword arguments (all but ``vocab_size``), checked by building a one-character model."""
    if model == "charlstm":
        kwargs: dict[str, Any] = {"embedding_dim": int(embedding_dim), "hidden_size": int(hidden_size),
                                  "num_layers": int(num_layers), "dropout": float(dropout)}
    else:
        kwargs = {"context": int(seq_len), "dropout": float(dropout)}
    kwargs.update(given or {})
    if "vocab_size" in kwargs:
        raise ValueError("model_kwargs: vocab_size is the text's, not an option")
    if model == "transformer" and int(kwargs["context"]) < seq_len:
        raise ValueError(f"the transformer's context ({kwargs['context']}) is shorter than seq_len ({seq_len})")
    build_model(model, vocab_size=1, **kwargs)  # a bad option fails here, before the run folder is touched
    return kwargs


def load_charlm(run_dir: str | os.PathLike) -> tuple[Any, Vocab, dict[str, Any]]:
    """``(model, vocab, config)`` rebuilt from a run folder written by :func:`train_charlm`.

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> text = Path(tmp.name) / "t.txt"
    >>> _ = text.write_text("hello world, " * 8, encoding="utf-8")
    >>> run = Path(tmp.name) / "run"
    >>> res = train_charlm(text, run, seq_len=8, batch_size=4, embedding_dim=4, hidden_size=8, num_layers=1,
    ...                    epochs=1, progress=False, log=None)

    >>> model, vocab, config = load_charlm(run)
    >>> type(model).__name__, "".join(vocab.chars), config["model"]
    ('CharLSTM', ' ,dehlorw', 'charlstm')
    >>> tmp.cleanup()
    """
    from gradlab.train.checkpoint import load_weights

    run = Path(run_dir)
    for name in ("config.json", "vocab.json", "weights.safetensors"):
        if not (run / name).is_file():
            raise FileNotFoundError(f"{run}: no {name} (is this a finished 'gradlab train --text FILE' run?)")
    config = read_json(run / "config.json")
    if config.get("model") not in TEXT_MODELS:
        raise ValueError(f"{run} holds a {config.get('model')!r} model, not a character-level one "
                         f"({', '.join(TEXT_MODELS)})")
    vocab = Vocab.load(run / "vocab.json")
    model = build_model(config["model"], **config["model_kwargs"])
    load_weights(model, run / "weights.safetensors")
    model.eval()
    return model, vocab, config


def sample_run(run_dir: str | os.PathLike, prompt: str = "", length: int = 300, temperature: float = 0.8,
               seed: int | None = None, top_k: int | None = None) -> str:
    """Text generated by the model of a run folder (reproducible for a given ``seed``).

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> text = Path(tmp.name) / "t.txt"
    >>> _ = text.write_text("hello world, " * 8, encoding="utf-8")
    >>> run = Path(tmp.name) / "run"
    >>> res = train_charlm(text, run, seq_len=8, batch_size=4, embedding_dim=4, hidden_size=8, num_layers=1,
    ...                    epochs=1, progress=False, log=None)

    >>> a = sample_run(run, prompt="he", length=10, seed=0)
    >>> a == sample_run(run, prompt="he", length=10, seed=0), len(a)  # reproducible; the prompt comes first
    (True, 12)
    >>> tmp.cleanup()
    """
    model, vocab, _ = load_charlm(run_dir)
    gen = gradlab.Generator(seed) if seed is not None else None
    return sample(model, vocab, prompt, length, temperature, generator=gen, top_k=top_k)
