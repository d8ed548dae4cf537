"""A small character-level transformer (decoder-only, GPT-style) trained on the book of Genesis, written the way a
PyTorch tutorial writes it: ``nn.Embedding`` for characters and positions, a ``nn.TransformerEncoder`` with a causal
mask (pre-norm layers), a linear head, AdamW with ``SequentialLR`` (``LinearLR`` warm-up then cosine annealing).

It prints the training loss every ``--log-every`` steps and the held-out loss at the end, then samples a few
lines. Measured (seed 0, 300 steps): the training loss falls from 4.42 (the uniform guess is ln(70) = 4.25) to
2.07, held-out 2.12; about 40 s on one core (``OPENBLAS_NUM_THREADS=1`` helps on a busy machine)::

    python examples/char_transformer.py --steps 300
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import gradlab  # noqa: E402
import gradlab.nn.functional as F  # noqa: E402
from gradlab import nn, optim  # noqa: E402

__all__ = ["CharTransformer", "load_text", "train", "main"]

DATA = Path(__file__).resolve().parent / "data" / "genesis_kjv.txt"


class CharTransformer(nn.Module):
    """Token + position embeddings, ``num_layers`` pre-norm encoder layers under a causal mask, a linear head."""

    def __init__(self, vocab: int, block: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 dropout: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        self.block = block
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(gradlab.arange(t))
        mask = nn.Transformer.generate_square_subsequent_mask(t, dtype=x.dtype)
        return self.head(self.encoder(x, mask=mask, is_causal=True))


def load_text(path: Path = DATA) -> tuple[np.ndarray, list[str]]:
    """The text as int64 character codes and the sorted alphabet."""
    text = path.read_text(encoding="utf-8")
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    return np.array([lookup[c] for c in text], dtype=np.int64), chars


def _batch(data: np.ndarray, block: int, batch: int, rng: np.random.Generator):
    starts = rng.integers(0, len(data) - block - 1, size=batch)
    windows = data[starts[:, None] + np.arange(block + 1)]
    return gradlab.tensor(windows[:, :-1]), gradlab.tensor(windows[:, 1:])


def _loss(model: CharTransformer, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def train(steps: int = 300, block: int = 64, batch: int = 32, d_model: int = 64, num_layers: int = 2,
          lr: float = 3e-3, log_every: int = 50, seed: int = 0, quiet: bool = False) -> dict:  # fmt: skip
    """Train on 90% of the text; returns the logged training losses, the held-out loss, the model and alphabet."""
    gradlab.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data, chars = load_text()
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    model = CharTransformer(len(chars), block, d_model, 4, num_layers)
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    sched = optim.lr_scheduler.SequentialLR(
        opt,
        [optim.lr_scheduler.LinearLR(opt, 0.1, 1.0, warmup),
         optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps - warmup), eta_min=lr / 10)],
        milestones=[warmup],
    )  # fmt: skip
    losses: list[tuple[int, float]] = []
    running, start = 0.0, time.perf_counter()
    for step in range(1, steps + 1):
        x, y = _batch(train_data, block, batch, rng)
        loss = _loss(model, x, y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += loss.item()
        if step % log_every == 0 or step == 1:
            avg = running / (1 if step == 1 else log_every)
            losses.append((step, avg))
            running = 0.0
            if not quiet:
                print(f"step {step:4d}  loss {avg:.3f}  lr {sched.get_last_lr()[0]:.2e}  "
                      f"{time.perf_counter() - start:.0f}s", flush=True)  # fmt: skip
    model.eval()
    with gradlab.no_grad():
        val = float(np.mean([_loss(model, *_batch(val_data, block, batch, rng)).item() for _ in range(8)]))
    return {"losses": losses, "val_loss": val, "model": model, "chars": chars}


def sample(model: CharTransformer, chars: list[str], prompt: str = "And God said", length: int = 200,
           temperature: float = 0.8, seed: int = 0) -> str:  # fmt: skip
    """Continue ``prompt`` character by character (sampling from the softmax at ``temperature``)."""
    rng = np.random.default_rng(seed)
    lookup = {c: i for i, c in enumerate(chars)}
    idx = [lookup[c] for c in prompt if c in lookup]
    with gradlab.no_grad():
        for _ in range(length):
            window = gradlab.tensor(np.array([idx[-model.block :]], dtype=np.int64))
            logits = model(window)[0, -1].numpy().astype(np.float64) / temperature
            p = np.exp(logits - logits.max())
            idx.append(int(rng.choice(len(chars), p=p / p.sum())))
    return "".join(chars[i] for i in idx)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--block", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--log-every", type=int, default=50)
    args = parser.parse_args(argv)
    out = train(args.steps, args.block, args.batch, args.d_model, args.layers, args.lr, args.log_every)
    print(f"held-out loss {out['val_loss']:.3f} (uniform guess: {math.log(len(out['chars'])):.3f})")
    print(sample(out["model"], out["chars"]))


if __name__ == "__main__":
    main()
