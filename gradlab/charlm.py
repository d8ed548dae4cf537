"""Character-level language modelling end to end: train a ``CharLSTM`` on a UTF-8 text file and sample from it.

The engine behind ``gradlab train --model charlstm --text FILE`` and ``gradlab sample RUN_DIR``. A run folder holds
``config.json`` (model settings), ``vocab.json`` (the characters, so sampling rebuilds the same ids),
``weights.safetensors``, ``checkpoint/`` (for ``--resume``), ``history.json``, ``curves.png`` (training and
validation loss per epoch) and ``results.json`` (final validation loss, in nats and bits per character).
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradlab
from gradlab.data import DataLoader
from gradlab.models.rnn import CharLSTM, sample
from gradlab.nn import functional as F
from gradlab.textdata import Vocab, char_datasets

__all__ = [
    "CharLMLoss", "train_charlm", "load_charlm", "sample_run", "add_text_arguments", "cmd_train_charlm",
    "add_sample_arguments", "cmd_sample",
]

class CharLMLoss:
    """Mean cross-entropy of next-character logits ``(N, T, V)`` against targets ``(N, T)``."""

    def __call__(self, logits: Any, target: Any) -> Any:
        v = logits.shape[-1]
        return F.cross_entropy(logits.reshape(-1, v), target.reshape(-1))


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def train_charlm(
    text: str | os.PathLike, out: str | os.PathLike, *, seq_len: int = 100, batch_size: int = 64,
    embedding_dim: int = 64, hidden_size: int = 256, num_layers: int = 2, dropout: float = 0.0,
    optimizer: str = "adam", lr: float = 2e-3, weight_decay: float = 0.0, epochs: int = 10,
    clip_grad_norm: float | None = 5.0, val_split: float = 0.1, seed: int = 0, limit: int | None = None,
    resume: bool = False, progress: bool = True, callbacks: Sequence[Any] = (),
    log: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Train a ``CharLSTM`` on the UTF-8 file ``text`` (the last ``val_split`` of it held out) and write the run
    folder ``out``. ``limit`` keeps only the first ``limit`` characters (quick runs). Returns the results
    (``val_loss``, ``val_bpc``, ``history``, ...).
    """
    from gradlab.train.checkpoint import CHECKPOINT_DIRNAME, has_checkpoint, save_weights
    from gradlab.train.experiment import build_optimizer
    from gradlab.train.loop import fit

    say = log or (lambda s: None)
    text_path = Path(text)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "task": "charlm", "model": "charlstm", "text": str(text_path), "seq_len": int(seq_len),
        "batch_size": int(batch_size), "optimizer": optimizer, "lr": float(lr), "weight_decay": float(weight_decay),
        "epochs": int(epochs), "clip_grad_norm": clip_grad_norm, "val_split": float(val_split), "seed": int(seed),
        "limit": limit, "gradlab_version": gradlab.__version__,
    }
    gradlab.manual_seed(seed)
    train_ds, val_ds, vocab = char_datasets(text_path, seq_len, val_split, limit=limit)
    config["model_kwargs"] = {"vocab_size": len(vocab), "embedding_dim": int(embedding_dim),
                              "hidden_size": int(hidden_size), "num_layers": int(num_layers),
                              "dropout": float(dropout)}
    _write_json(out / "config.json", config)
    vocab.save(out / "vocab.json")
    model = CharLSTM(**config["model_kwargs"])
    opt = build_optimizer(optimizer, model.parameters(), lr, weight_decay=weight_decay)
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=gradlab.Generator(seed + 1))
    val_loader = DataLoader(val_ds, batch_size=batch_size) if val_ds is not None else None
    ckpt = out / CHECKPOINT_DIRNAME
    resume_from = ckpt if resume and has_checkpoint(ckpt) else None
    say(f"training charlstm on {text_path.name}: {len(vocab)} characters in the vocabulary, "
        f"{len(train_ds)} train / {0 if val_ds is None else len(val_ds)} validation windows of {seq_len}, "
        f"{epochs} epochs" + (f", resuming from {resume_from}" if resume_from else ""))
    t0 = time.perf_counter()
    history = fit(model, CharLMLoss(), opt, train_loader, val_loader, epochs=epochs, callbacks=list(callbacks),
                  metrics=("accuracy",), checkpoint_dir=ckpt, resume_from=resume_from, progress=progress,
                  clip_grad_norm=clip_grad_norm)
    train_time = time.perf_counter() - t0
    save_weights(model, out / "weights.safetensors")
    history.to_json(out / "history.json")
    if len(history):
        history.plot(out / "curves.png", title=f"charlstm on {text_path.name} (loss in nats per character)")
    hist = history.history
    val_loss = hist["val_loss"][-1] if hist.get("val_loss") else None
    results = {"val_loss": val_loss, "val_bpc": None if val_loss is None else val_loss / math.log(2),
               "train_loss": hist["loss"][-1] if hist.get("loss") else None, "epochs": len(history),
               "train_time_s": train_time}
    _write_json(out / "results.json", results)
    return {**results, "history": history, "model": model, "vocab": vocab}


def load_charlm(run_dir: str | os.PathLike) -> tuple[CharLSTM, Vocab, dict[str, Any]]:
    """``(model, vocab, config)`` rebuilt from a run folder written by :func:`train_charlm`."""
    from gradlab.train.checkpoint import load_weights

    run = Path(run_dir)
    for name in ("config.json", "vocab.json", "weights.safetensors"):
        if not (run / name).is_file():
            raise FileNotFoundError(f"{run}: no {name} (is this a finished 'gradlab train --model charlstm' run?)")
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    if config.get("model") != "charlstm":
        raise ValueError(f"{run} holds a {config.get('model')!r} model, not a charlstm")
    vocab = Vocab.load(run / "vocab.json")
    model = CharLSTM(**config["model_kwargs"])
    load_weights(model, run / "weights.safetensors")
    model.eval()
    return model, vocab, config


def sample_run(run_dir: str | os.PathLike, prompt: str = "", length: int = 300, temperature: float = 0.8,
               seed: int | None = None, top_k: int | None = None) -> str:
    """Text generated by the model of a run folder (reproducible for a given ``seed``)."""
    model, vocab, _ = load_charlm(run_dir)
    gen = gradlab.Generator(seed) if seed is not None else None
    return sample(model, vocab, prompt, length, temperature, generator=gen, top_k=top_k)


# ---------------------------------------------------------------- command line (wired in gradlab/cli.py)
CHARLM_TRAIN_DEFAULTS: dict[str, Any] = {"hidden": (256, 256), "lr": 2e-3, "batch_size": 64, "out": "runs/charlstm"}
_IGNORED_TRAIN_OPTIONS = ("dataset", "data_dir", "activation", "batch_norm", "scheduler", "momentum")


def add_text_arguments(p: Any) -> None:
    """The ``gradlab train`` options of the character-level model (``--model charlstm``)."""
    t = p.add_argument_group("text (--model charlstm)")
    t.add_argument("--text", metavar="FILE", help="UTF-8 text file to train a character-level model on "
                   "(with --model charlstm; --hidden gives the LSTM layers, e.g. 256,256; --limit N keeps the "
                   "first N characters; defaults then: --lr 2e-3 --batch-size 64 --out runs/charlstm)")
    t.add_argument("--seq-len", type=int, default=100, metavar="N",
                   help="characters per training window (default 100)")
    t.add_argument("--embedding-dim", type=int, default=64, metavar="N", help="character embedding size (64)")


def cmd_train_charlm(args: Any) -> int:
    """``gradlab train --model charlstm --text FILE``: train, write the run folder, print the validation loss."""
    import sys

    from gradlab.cli import UsageError, _explicit_options
    from gradlab.train.callbacks import ProgressBar

    if args.model != "charlstm":
        raise UsageError(f"--text trains a character-level model: use it with --model charlstm, not {args.model}")
    if not args.text:
        raise UsageError("--model charlstm needs --text FILE (a UTF-8 text to learn from)")
    if not Path(args.text).is_file():
        raise UsageError(f"--text {args.text!r}: no such file")
    given = set(_explicit_options("train", getattr(args, "_argv", [])))
    pick: dict[str, Any] = {k: (getattr(args, k) if k in given else v) for k, v in CHARLM_TRAIN_DEFAULTS.items()}
    hidden = tuple(pick["hidden"])
    if not hidden or len(set(hidden)) != 1:
        raise UsageError(f"--hidden for charlstm lists equal LSTM layer sizes like 256,256, got {hidden}")
    if args.seq_len < 1 or args.embedding_dim < 1:
        raise UsageError("--seq-len and --embedding-dim must be positive")
    ignored = [f"--{k.replace('_', '-')}" for k in _IGNORED_TRAIN_OPTIONS if k in given]
    if ignored:
        print(f"gradlab train: {', '.join(ignored)} do not apply to charlstm; ignored", file=sys.stderr)
    res = train_charlm(
        args.text, pick["out"], seq_len=args.seq_len, batch_size=pick["batch_size"],
        embedding_dim=args.embedding_dim, hidden_size=hidden[0], num_layers=len(hidden), dropout=args.dropout,
        optimizer=args.optimizer, lr=pick["lr"], weight_decay=args.weight_decay, epochs=args.epochs,
        clip_grad_norm=args.clip_grad_norm,
        val_split=args.val_split, seed=args.seed, limit=args.limit,
        resume=args.resume, progress=False, callbacks=[ProgressBar(bar=not args.no_progress)],
    )
    hist = res["history"].history
    if hist.get("val_loss"):
        print("validation losses: " + ", ".join(f"{v:.4f}" for v in hist["val_loss"]))
        print(f"validation loss: {res['val_loss']:.4f} nats/char ({res['val_bpc']:.3f} bits/char), "
              f"{res['epochs']} epochs, {res['train_time_s']:.1f}s")
    gen = gradlab.Generator(args.seed)
    print("sample: " + repr(sample(res["model"], res["vocab"], "", 120, 0.8, generator=gen)))
    print(f"wrote {pick['out']}/: weights.safetensors, vocab.json, config.json, checkpoint/, history.json, "
          f"curves.png, results.json")
    return 0


def add_sample_arguments(p: Any) -> None:
    """The options of ``gradlab sample``."""
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by 'gradlab train --model charlstm'")
    p.add_argument("--prompt", default="", help="text to start from (default: a random character)")
    p.add_argument("--length", type=int, default=300, metavar="N", help="characters to generate (default 300)")
    p.add_argument("--temperature", type=float, default=0.8, metavar="T",
                   help="sampling temperature: lower is safer, higher more surprising; 0 = most likely (0.8)")
    p.add_argument("--top-k", type=int, default=None, metavar="K", help="sample among the K most likely only")
    p.add_argument("--seed", type=int, default=None, help="random seed, for reproducible text (default: fresh)")


def cmd_sample(args: Any) -> int:
    """``gradlab sample RUN_DIR``: print text generated by a trained character-level model."""
    from gradlab.cli import UsageError

    run = Path(args.run_dir)
    if not run.is_dir():
        raise UsageError(f"run folder {str(run)!r} does not exist")
    if args.length < 0 or args.temperature < 0 or (args.top_k is not None and args.top_k < 1):
        raise UsageError("--length and --temperature must be >= 0 and --top-k >= 1")
    model, vocab, _ = load_charlm(run)
    missing = sorted({c for c in args.prompt if c not in vocab})
    if missing:
        raise UsageError(f"--prompt has characters the model never saw: {''.join(missing)!r}")
    gen = gradlab.Generator(args.seed) if args.seed is not None else None
    print(sample(model, vocab, args.prompt, args.length, args.temperature, generator=gen, top_k=args.top_k))
    return 0
