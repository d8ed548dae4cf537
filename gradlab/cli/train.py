"""``gradlab train``: train a model on a dataset (or a character-level model on a text) and write a run folder.

The text options and the char-LM path live in :mod:`gradlab.cli._charlm`; the engine in
:mod:`gradlab.train.experiment` and :mod:`gradlab.train.charlm`.

>>> COMMAND.name
'train'
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gradlab.cli._charlm import TEXT_MODELS
from gradlab.cli._parser import Command, UsageError, check_out, explicit_options, number, parse_hidden

__all__ = ["COMMAND", "add_arguments", "run", "report", "RECURRENT_MODELS", "resolve_clip_norm", "resolve_device",
           "monitor_callbacks"]

RECURRENT_MODELS = ("lstm", "gru", "charlstm")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the options of ``gradlab train`` on ``p``.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="t"); add_arguments(p); p.parse_args(["--epochs", "2"]).epochs
    2
    """
    from gradlab.cli._charlm import add_text_arguments
    from gradlab.cli._zoo import add_zoo_arguments
    from gradlab.models import ACTIVATIONS, list_models
    from gradlab.train.experiment import DATASETS, OPTIMIZERS, SCHEDULERS

    d = p.add_argument_group("data")
    d.add_argument("--dataset", default="mnist", choices=sorted(DATASETS), help="dataset to train on (default mnist)")
    d.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (default: searched)")
    d.add_argument("--limit", type=number(int, "--limit", 1), metavar="N",
                   help="train on the first N training images only (quick runs)")
    d.add_argument("--val-split", type=number(float, "--val-split", 0.0, 1.0), default=0.1, metavar="F",
                   help="fraction of the training images held out for validation (default 0.1; 0 for none)")
    d.add_argument("--batch-size", type=number(int, "--batch-size", 1), default=128, metavar="N",
                   help="mini-batch size (default 128)")
    d.add_argument("--normalize", type=_normalize_mode, default="dataset", metavar="MODE",
                   help="input normalisation: dataset (default: its published mean and std), auto (per-channel mean "
                   "and std of the training split, stored in config.json), mean-image (subtract the training "
                   "split's mean image), none (pixels in [0, 1]) or MEAN,STD")
    d.add_argument("--augment", type=_augment_list, default=None, metavar="LIST",
                   help="random transforms of each training batch, comma-separated: crop[:PAD], flip, vflip, "
                   "affine[:DEGREES], erase, noise[:STD] (default none); seeded by --seed")
    m = p.add_argument_group("model")
    m.add_argument("--model", default="mlp", choices=list_models(), help="model architecture (default mlp)")
    m.add_argument("--hidden", type=parse_hidden, default=(512, 512), metavar="SIZES",
                   help="hidden layer widths, comma-separated (default 512,512)")
    m.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS), help="hidden activation (relu)")
    m.add_argument("--dropout", type=number(float, "--dropout", 0.0, 1.0), default=0.0, metavar="P",
                   help="dropout probability after each hidden layer (default 0)")
    m.add_argument("--batch-norm", action="store_true", help="BatchNorm1d after each hidden linear layer")
    o = p.add_argument_group("optimisation")
    o.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS), help="optimizer (default adam)")
    o.add_argument("--lr", type=number(float, "--lr", 0.0, low_open=True, high=None), default=1e-3,
                   help="learning rate (default 1e-3)")
    o.add_argument("--momentum", type=number(float, "--momentum", 0.0, 1.0), default=0.0,
                   help="momentum for sgd and rmsprop (default 0)")
    o.add_argument("--weight-decay", type=number(float, "--weight-decay", 0.0, high=None), default=0.0,
                   help="L2 weight decay (default 0)")
    o.add_argument("--scheduler", default="none", choices=list(SCHEDULERS), help="learning-rate schedule (none)")
    o.add_argument("--epochs", type=number(int, "--epochs", 1), default=10, help="epochs in total (default 10)")
    o.add_argument("--clip-grad-norm", type=number(float, "--clip-grad-norm", 0.0, None), default=None,
                   metavar="X", help="clip the gradients' global norm before each step (default 5 for the "
                   "recurrent models lstm, gru, charlstm and for --model transformer, none for the others; 0 for none)")
    o.add_argument("--seed", type=number(int, "--seed", 0, None), default=0, help="random seed (default 0)")
    o.add_argument("--on-nan", choices=("raise", "stop", "skip-batch"), default="raise",
                   help="when the loss or the weights become NaN/inf: raise (default: stop with an error, exit 1, "
                   "nothing non-finite saved), stop (keep the last good epoch's checkpoint and finish), skip-batch "
                   "(skip batches with a NaN/inf loss or gradient)")
    r = p.add_argument_group("run")
    r.add_argument("--out", default="runs/mnist-mlp", metavar="DIR",
                   help="run folder for weights, checkpoint, history, curves, config (default runs/mnist-mlp)")
    r.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint, with its saved config (--epochs may grow)")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the earlier run in a non-empty --out (its run files; other files are kept). "
                   "Without --resume or --overwrite, --out must be missing or empty")
    r.add_argument("--no-progress", action="store_true", help="no progress bar (epoch summaries only)")
    r.add_argument("--device", default="cpu", metavar="DEV",
                   help="where to train: cpu (default), cuda or cuda:N (needs CuPy and an NVIDIA GPU: "
                   "pip install gradlab[cuda]); the run folder stays device-neutral")
    r.add_argument("--distributed", action="store_true",
                   help="data-parallel over the ranks of `mpiexec -n N gradlab train ...` (--batch-size is the "
                   "global batch; rank 0 prints and writes --out; --resume needs the same N); needs gradlab[mpi]")
    r.add_argument("--check-weights", action="store_true",
                   help="with --distributed (debug): compare a hash of the weights over the ranks every epoch")
    r.add_argument("--monitor", type=number(int, "--monitor", 1), metavar="N",
                   help="every N steps record per-layer update/weight ratios, activation and gradient statistics "
                   "and dead ReLUs into --out/monitor/ (JSON and PNG)")
    r.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs to DIR (needs tensorboardX)")
    add_text_arguments(p)
    add_zoo_arguments(p)


def _normalize_mode(text: str) -> str:
    from gradlab.train.preprocess import check_preprocessing

    try:
        check_preprocessing(text, None)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).replace("normalize ", "", 1)) from None
    return text


def _augment_list(text: str) -> str | None:
    from gradlab.train.preprocess import check_preprocessing

    if text.strip().lower() in ("", "none"):
        return None
    try:
        check_preprocessing(None, text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def resolve_clip_norm(args: argparse.Namespace) -> float | None:
    """``--clip-grad-norm``: as given (0 for none); by default 5 for the recurrent models (a ``--text`` run is
    a charlstm or transformer), none otherwise.

    >>> resolve_clip_norm(argparse.Namespace(clip_grad_norm=None, model="lstm", text=None))
    5.0
    """
    if args.clip_grad_norm is None:
        return 5.0 if args.model in RECURRENT_MODELS or args.text else None
    return args.clip_grad_norm or None


def _saved_config(out: Path) -> dict:
    """The ``config.json`` of the run folder ``out`` (for ``--resume``), checked enough to continue from."""
    from gradlab.train.jsonfile import read_json

    path = out / "config.json"
    try:
        saved = read_json(path)
    except ValueError as e:
        raise UsageError(f"--resume: {e}") from None
    except OSError as e:
        raise UsageError(f"--resume: cannot read {path}: {e.strerror or e}") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("model_kwargs", {}), dict) \
            or not all(k in saved for k in ("dataset", "model", "optimizer", "lr", "epochs", "batch_size", "seed")):
        raise UsageError(f"--resume: {path} is not a gradlab train config (a JSON object with dataset, model, "
                         "optimizer, lr, epochs, batch_size, seed)")
    return saved


def resolve_device(text: str) -> str | None:
    """``--device``: None for the CPU, else the device name, checked now (UsageError naming the flag and the reason:
    a malformed name, CuPy missing, no GPU).

    >>> resolve_device("cpu") is None
    True
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    gradlab.cli._parser.UsageError: --device tpu: unknown device type 'tpu': gradlab runs on 'cpu' and 'cuda' (CuPy)
    """
    import gradlab

    try:
        dev = gradlab.device(text)
        if dev.type == "cpu":
            return None
        gradlab.zeros(1, device=dev)  # CuPy present, a GPU there
    except (RuntimeError, ValueError, TypeError, ImportError) as e:
        raise UsageError(f"--device {text}: {str(e).splitlines()[0]}") from None
    return str(dev)


def monitor_callbacks(args: argparse.Namespace, out: Path) -> list:
    """The callbacks of ``--monitor N`` (into ``out/monitor/``) and ``--tensorboard DIR``.

    >>> monitor_callbacks(argparse.Namespace(monitor=None, tensorboard=None), Path("runs/x"))
    []
    """
    cbs: list = []
    if getattr(args, "monitor", None):
        from gradlab.train.monitors import TrainingMonitor

        cbs.append(TrainingMonitor(args.monitor, out_dir=out / "monitor"))
    if getattr(args, "tensorboard", None):
        from gradlab.train.tensorboard import TensorBoard

        try:
            cbs.append(TensorBoard(args.tensorboard))
        except ImportError as e:
            raise UsageError(f"--tensorboard: {e}") from None
    return cbs


def run(args: argparse.Namespace) -> int:
    """``gradlab train``: train, write the run folder, print the test accuracy (the char-LM: validation loss).

    >>> from gradlab.cli import main
    >>> main(["train", "--no-such-flag"])  # a bad flag: the usage error goes to stderr, exit status 2
    2
    """
    from gradlab.cli._zoo import GENERATIVE, run_generative, zoo_callbacks

    if args.model in GENERATIVE:  # the unsupervised zoo: no classes, pixels in [0, 1], pictures
        return run_generative(args)
    zoo = zoo_callbacks(args)  # --adversarial, the RBF network's k-means start
    if getattr(args, "adversarial", None) and (getattr(args, "distributed", False) or args.model in TEXT_MODELS
                                               or args.text):
        raise UsageError("--adversarial trains the image classifiers in one process: drop --distributed and --text")
    args.clip_grad_norm = resolve_clip_norm(args)  # resolved once: both training paths read it as given
    if getattr(args, "distributed", False):
        from gradlab.cli._distributed import run_distributed

        return run_distributed(args, _config, report)
    if getattr(args, "check_weights", False):
        raise UsageError("--check-weights compares the weights of the ranks of a --distributed run: add "
                         "--distributed")
    device = resolve_device(getattr(args, "device", "cpu"))
    if args.model in TEXT_MODELS or args.text:  # character-level language model on a text file
        if device is not None:
            raise UsageError("--device: the character-level model trains on the CPU only for now")
        from gradlab.cli._charlm import run_charlm

        return run_charlm(args)

    from gradlab.train.callbacks import ProgressBar
    from gradlab.train.experiment import run_training

    out = Path(args.out)
    mode = check_out(out, args)
    config = _config(args, mode)
    if getattr(args, "adversarial", None) and mode != "resume":
        config["adversarial"] = {"attack": args.adversarial, "epsilon": zoo[0].epsilon}
    results = run_training(config, out, data_dir=args.data_dir, resume=args.resume, progress=False,
                           callbacks=[ProgressBar(bar=not args.no_progress), *monitor_callbacks(args, out), *zoo],
                           on_nan=args.on_nan,
                           overwrite=args.overwrite, device=device)
    report(results, out)
    return 0


def _config(args: argparse.Namespace, mode: str) -> dict:
    """The run config of the options; with ``--resume`` (``mode='resume'``) the saved one, ``--epochs`` as given
    (other differing options are named on stderr and ignored)."""
    from gradlab.train.experiment import make_config

    config = make_config(
        dataset=args.dataset, model=args.model, hidden=args.hidden, activation=args.activation,
        dropout=args.dropout, batch_norm=args.batch_norm, optimizer=args.optimizer, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay, scheduler=args.scheduler, epochs=args.epochs,
        batch_size=args.batch_size, seed=args.seed, val_split=args.val_split, limit=args.limit,
        clip_grad_norm=args.clip_grad_norm, normalize=args.normalize, augment=args.augment,
    )
    out = Path(args.out)
    if mode == "resume" and (out / "config.json").is_file():
        saved = _saved_config(out)
        flat_saved = {**saved, **saved.get("model_kwargs", {})}
        flat_new = {**config, **config["model_kwargs"]}
        ignored = [f"--{d.replace('_', '-')}" for d in explicit_options("train", getattr(args, "_argv", []))
                   if d in flat_new and d != "epochs" and flat_saved.get(d) != flat_new[d]]
        if ignored:
            print(f"gradlab train: --resume continues {out} with its saved config; ignoring the differing "
                  f"{', '.join(ignored)}", file=sys.stderr)
        config = dict(saved, epochs=config["epochs"])
    return config


def report(results: dict, out: Path) -> None:
    """Print what a run did: the epoch losses, the test accuracy, the files written.

    >>> from gradlab.train.history import History
    >>> report({"history": History(), "test_accuracy": 0.9, "test_loss": 0.3, "epochs": 0, "train_time_s": 1.0},
    ...        Path("runs/x"))  # doctest: +ELLIPSIS
    test accuracy: 0.9000 (test loss 0.3000, 0 epochs, 1.0s)
    wrote runs/x/: ...
    """
    if results.get("stopped"):
        print(f"gradlab train: {results['stopped']}", file=sys.stderr)
    hist = results["history"].history
    if "loss" in hist:
        print("epoch losses: " + ", ".join(f"{v:.4f}" for v in hist["loss"]))
    print(f"test accuracy: {results['test_accuracy']:.4f} (test loss {results['test_loss']:.4f}, "
          f"{results['epochs']} epochs, {results['train_time_s']:.1f}s)")
    print(f"wrote {out}/: weights.safetensors, checkpoint/, history.json, curves.png, config.json, results.json"
          + (", distributed.json" if "world_size" in results else ""))


COMMAND = Command("train", "train a model and write a run folder", add_arguments, run,
                  "Train a model on a dataset; writes weights.safetensors, checkpoint/, history.json, "
                  "curves.png and config.json to --out and prints the test accuracy.")
