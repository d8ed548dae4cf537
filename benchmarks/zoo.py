"""The network zoo's benchmark (issue 17): each figure beside torch running the same recipe in its own process.

    python benchmarks/zoo.py                       # every row at the issue's recipes (long on 2 cores)
    python benchmarks/zoo.py --only vae --epochs 3 # one row, a shorter run
    python benchmarks/zoo.py --quick               # smoke run: 1 epoch on 6,000 images everywhere
    OMP_NUM_THREADS=1 python benchmarks/zoo.py --only gan --gan dcgan   # on a busy machine: one thread each

Rows (``--only`` takes a comma-separated subset):

* ``vae``: VAE 784-400-20 (ReLU, Bernoulli decoder, Adam 1e-3, batch 128): test negative ELBO (nats per image, one
  reparameterised sample per image) and the median per-epoch time ratio gradlab / torch (each library trains in
  its own process, one after the other; epoch i of one against epoch i of the other).
* ``gan``: ``--gan dcgan`` (default): the DCGAN of ``GAN(kind="dcgan")``, channels (64, 32), z 100, batch 64, 10
  epochs (``benchmarks/zoo_gan.py`` has both sides); ``--gan mlp``: the MLP GAN (z 64 -> 256 -> 512 -> 784; D
  mirrored; batch 64, 20 epochs). Adam 2e-4, betas (0.5, 0.999), non-saturating BCE, pixels in [-1, 1], in both
  libraries; 1,000 samples of each judged by a LeNet-5 trained here with gradlab on MNIST in [0, 1]: the share
  classified with confidence > 0.9, the smallest class share, and the Frechet distance of the LeNet's penultimate
  (84-d) features to the test set's. The first 100 samples go to ``results/zoo-gan-<kind>-<lib>.png``.
* ``attacks``: the same LeNet-5 weights under FGSM and PGD (10 steps, alpha 2.5 eps / 10, random start) at
  epsilon 0 ... 0.3 on 1,000 test digits, gradlab vs torch accuracy; then a LeNet-5 trained with gradlab's
  ``AdversarialTraining('fgsm', 0.1)`` callback, evaluated under FGSM at 0.1.
* ``ae``: gradlab only: plain vs denoising AE (784-256-32, Gaussian noise 0.5) reconstruction loss on noisy test
  digits; sparse AE (KL to target 0.05) mean code activation.

Workers run as ``python benchmarks/zoo.py _worker TASK LIB ARGS_JSON OUT_JSON`` (torch is imported only there).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's gradlab

EPSILONS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


# ---------------------------------------------------------------- data (numpy, shared by both libraries)
def _mnist(train: bool, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    from gradlab.train.generative_runs import load_images

    return load_images("mnist", train=train, limit=limit)


# ---------------------------------------------------------------- torch workers
def _torch_vae(args: dict[str, Any]) -> dict[str, Any]:
    import torch
    from torch import nn

    torch.manual_seed(args["seed"])
    x, _ = _mnist(True, args.get("limit"))
    xt, _ = _mnist(False)
    x, xt = torch.from_numpy(x.reshape(len(x), -1)), torch.from_numpy(xt.reshape(len(xt), -1))

    class VAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc, self.mu, self.lv = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
            self.dec = nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784))

        def terms(self, xb):
            h = torch.relu(self.enc(xb))
            mu, lv = self.mu(h), self.lv(h)
            z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
            rec = nn.functional.binary_cross_entropy_with_logits(self.dec(z), xb, reduction="sum") / len(xb)
            kl = 0.5 * (mu.pow(2) + lv.exp() - lv - 1).sum(1).mean()
            return rec, kl

    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(args["seed"])
    times = []
    for _ in range(args["epochs"]):
        t0 = time.perf_counter()
        for idx in np.array_split(rng.permutation(len(x)), -(-len(x) // 128)):
            rec, kl = model.terms(x[torch.from_numpy(idx)])
            opt.zero_grad()
            (rec + kl).backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        parts = [model.terms(xt[i:i + 1000]) for i in range(0, len(xt), 1000)]
    rec = float(np.mean([float(r) for r, _ in parts]))
    kl = float(np.mean([float(k) for _, k in parts]))
    return {"neg_elbo": rec + kl, "recon": rec, "kl": kl, "epoch_times": times}


def _torch_gan(args: dict[str, Any]) -> dict[str, Any]:
    import torch
    from torch import nn

    torch.manual_seed(args["seed"])
    x, _ = _mnist(True, args.get("limit"))
    x = torch.from_numpy(x.reshape(len(x), -1) * 2 - 1)
    g = nn.Sequential(nn.Linear(64, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 784), nn.Tanh())
    d = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1))
    og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.functional.binary_cross_entropy_with_logits
    rng = np.random.default_rng(args["seed"])
    times = []
    for _ in range(args["epochs"]):
        t0 = time.perf_counter()
        for idx in np.array_split(rng.permutation(len(x)), -(-len(x) // 64)):
            real = x[torch.from_numpy(idx)]
            fake = g(torch.randn(len(real), 64))
            rl, fl = d(real).view(-1), d(fake.detach()).view(-1)
            dl = bce(rl, torch.ones_like(rl)) + bce(fl, torch.zeros_like(fl))
            od.zero_grad()
            dl.backward()
            od.step()
            gl = d(fake).view(-1)
            gl = bce(gl, torch.ones_like(gl))
            og.zero_grad()
            gl.backward()
            og.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        samples = ((g(torch.randn(1000, 64)) + 1) / 2).numpy().reshape(1000, 1, 28, 28)
    np.save(args["samples"], samples.astype(np.float32))
    return {"epoch_times": times}


def _torch_lenet(torch: Any) -> Any:
    tnn = torch.nn
    m = tnn.Module()
    m.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5),
                                tnn.ReLU(), tnn.MaxPool2d(2))
    m.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                                  tnn.Linear(84, 10))
    m.forward = lambda inp: m.classifier(m.features(inp))
    return m


def _torch_attacks(args: dict[str, Any]) -> dict[str, Any]:
    import torch
    from safetensors.numpy import load_file

    model = _torch_lenet(torch)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in load_file(args["weights"]).items()})
    model.eval()
    xt, yt = _mnist(False, args["n"])
    x, y = torch.from_numpy(xt), torch.from_numpy(yt)

    def grad(inp):
        inp = inp.clone().requires_grad_(True)
        torch.nn.functional.cross_entropy(model(inp), y).backward()
        return inp.grad

    out: dict[str, Any] = {"fgsm": [], "pgd": []}
    for eps in EPSILONS:
        adv = (x + eps * grad(x).sign()).clamp(0, 1)
        cur = x + torch.from_numpy(np.random.default_rng(0).uniform(-eps, eps, xt.shape).astype(np.float32))
        cur = torch.min(torch.max(cur, x - eps), x + eps).clamp(0, 1)
        for _ in range(10):
            cur = cur + (0.25 * eps) * grad(cur).sign()
            cur = torch.min(torch.max(cur, x - eps), x + eps).clamp(0, 1)
        with torch.no_grad():
            out["fgsm"].append(float((model(adv).argmax(1) == y).float().mean()))
            out["pgd"].append(float((model(cur).argmax(1) == y).float().mean()))
    return out


# ---------------------------------------------------------------- gradlab workers
def _gradlab_vae(args: dict[str, Any]) -> dict[str, Any]:
    import gradlab
    from gradlab.models import VAE
    from gradlab.train.generative import evaluate_autoencoder, train_autoencoder

    gradlab.manual_seed(args["seed"])
    x, _ = _mnist(True, args.get("limit"))
    xt, _ = _mnist(False)
    model = VAE(hidden=(400,), latent_dim=20)
    hist = train_autoencoder(model, x, args["epochs"], 128, 1e-3, seed=args["seed"])
    res = evaluate_autoencoder(model, xt, batch_size=1000)
    return {"neg_elbo": res["loss"], "recon": res["recon"], "kl": res["kl"], "epoch_times": hist.history["time"]}


def _gradlab_gan(args: dict[str, Any]) -> dict[str, Any]:
    import gradlab
    from gradlab.models import GAN
    from gradlab.train.generative import train_gan

    gradlab.manual_seed(args["seed"])
    x, _ = _mnist(True, args.get("limit"))
    gan = GAN(latent_dim=64, kind="mlp", hidden=(256, 512))
    hist = train_gan(gan, x, args["epochs"], 64, 2e-4, seed=args["seed"])
    np.save(args["samples"], np.asarray(gan.sample(1000, seed=1).data, dtype=np.float32))
    return {"epoch_times": hist.history["time"]}


def _lenet_fit(epochs: int, limit: int | None, callbacks: list[Any], seed: int = 0) -> Any:
    import gradlab
    from gradlab import nn, optim
    from gradlab.data import DataLoader, TensorDataset
    from gradlab.models import LeNet5
    from gradlab.train import fit

    gradlab.manual_seed(seed)
    x, y = _mnist(True, limit)
    model = LeNet5()
    loader = DataLoader(TensorDataset(gradlab.tensor(x), gradlab.tensor(y)), batch_size=128, shuffle=True,
                        generator=gradlab.Generator(seed))
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), loader, epochs=epochs,
        progress=False, callbacks=callbacks)
    return model


def _gradlab_judge(args: dict[str, Any]) -> dict[str, Any]:
    import gradlab
    from gradlab.train.checkpoint import save_weights

    model = _lenet_fit(args["epochs"], args.get("limit"), [])
    save_weights(model, args["weights"])
    xt, yt = _mnist(False)
    model.eval()
    with gradlab.no_grad():
        acc = float((np.asarray(model(gradlab.tensor(xt)).data).argmax(1) == yt).mean())
    return {"test_accuracy": acc}


def _gradlab_attacks(args: dict[str, Any]) -> dict[str, Any]:
    from gradlab.attacks import robust_accuracy
    from gradlab.models import LeNet5
    from gradlab.train.checkpoint import load_weights

    model = LeNet5()
    load_weights(model, args["weights"])
    xt, yt = _mnist(False, args["n"])
    return {"fgsm": [robust_accuracy(model, xt, yt, "fgsm", e, batch_size=len(xt)) for e in EPSILONS],
            "pgd": [robust_accuracy(model, xt, yt, "pgd", e, batch_size=len(xt), steps=10, alpha=0.25 * e, seed=0)
                    for e in EPSILONS]}


def _gradlab_advtrain(args: dict[str, Any]) -> dict[str, Any]:
    from gradlab.attacks import robust_accuracy
    from gradlab.train.adversarial import AdversarialTraining

    model = _lenet_fit(args["epochs"], args.get("limit"), [AdversarialTraining("fgsm", epsilon=0.1, ratio=0.5)])
    xt, yt = _mnist(False, args["n"])
    return {"clean": robust_accuracy(model, xt, yt, "fgsm", 0.0),
            "fgsm_0.1": robust_accuracy(model, xt, yt, "fgsm", 0.1),
            "pgd_0.1": robust_accuracy(model, xt, yt, "pgd", 0.1, steps=10, seed=0)}


def _gradlab_ae(args: dict[str, Any]) -> dict[str, Any]:
    import gradlab
    from gradlab.models import AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder
    from gradlab.train.generative import evaluate_autoencoder, evaluate_denoising, train_autoencoder

    x, _ = _mnist(True, args.get("limit"))
    xt, _ = _mnist(False)
    out: dict[str, Any] = {}
    for name, model in [("ae", AutoEncoder(hidden=(256,), code_size=32)),
                        ("dae", DenoisingAutoEncoder(hidden=(256,), code_size=32, noise="gaussian", noise_level=0.5)),
                        ("sae", SparseAutoEncoder(hidden=(256,), code_size=64, penalty="kl", sparsity_weight=30.0,
                                                  target=0.05))]:
        gradlab.manual_seed(0)
        train_autoencoder(model, x, args["epochs"], 128, 1e-3, seed=0)
        out[name] = {"clean": evaluate_autoencoder(model, xt)["recon"],
                     "noisy": evaluate_denoising(model, xt, "gaussian", 0.5, seed=0)}
        if name == "sae":
            model.eval()
            with gradlab.no_grad():
                out[name]["code_mean"] = float(np.asarray(model.encode(gradlab.tensor(xt)).data).mean())
    return out


def _dcgan(lib: str) -> Any:
    def work(args: dict[str, Any]) -> dict[str, Any]:
        import zoo_gan  # benchmarks/ is on the path when this file runs as a script

        return (zoo_gan.gradlab_dcgan if lib == "gradlab" else zoo_gan.torch_dcgan)(args)
    return work


WORKERS = {("vae", "torch"): _torch_vae, ("vae", "gradlab"): _gradlab_vae, ("gan", "torch"): _torch_gan,
           ("gan", "gradlab"): _gradlab_gan, ("judge", "gradlab"): _gradlab_judge,
           ("attacks", "torch"): _torch_attacks, ("attacks", "gradlab"): _gradlab_attacks,
           ("advtrain", "gradlab"): _gradlab_advtrain, ("ae", "gradlab"): _gradlab_ae,
           ("dcgan", "gradlab"): _dcgan("gradlab"), ("dcgan", "torch"): _dcgan("torch")}


def _run(task: str, lib: str, args: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "_worker", task, lib, json.dumps(args),
                        str(out)], check=True, env=dict(os.environ, PYTHONPATH=str(HERE.parent)))
        return json.loads(out.read_text())


# ---------------------------------------------------------------- judging GAN samples (gradlab LeNet)
def _judge(weights: str, samples: np.ndarray, xt: np.ndarray) -> dict[str, float]:
    from scipy import linalg

    import gradlab
    from gradlab.models import LeNet5
    from gradlab.train.checkpoint import load_weights

    model = LeNet5()
    load_weights(model, weights)
    model.eval()

    def feats_probs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with gradlab.no_grad():
            h = model.classifier[:-1](model.features(gradlab.tensor(x.astype(np.float32))))
            logits = np.asarray(model.classifier[-1](h).data, dtype=np.float64)
        p = np.exp(logits - logits.max(1, keepdims=True))
        return np.asarray(h.data, dtype=np.float64), p / p.sum(1, keepdims=True)

    fs, ps = feats_probs(samples)
    ft, _ = feats_probs(xt)
    share = np.bincount(ps.argmax(1), minlength=10) / len(ps)
    mu1, mu2 = fs.mean(0), ft.mean(0)
    s1, s2 = np.cov(fs, rowvar=False), np.cov(ft, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    fid = float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))
    return {"confident": float((ps.max(1) > 0.9).mean()), "min_class_share": float(share.min()), "fid": fid}


def _ratio(a: list[float], b: list[float]) -> float:
    return float(np.median(np.asarray(a[: len(b)]) / np.asarray(b[: len(a)])))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        task, lib, args, out = argv[1], argv[2], json.loads(argv[3]), argv[4]
        Path(out).write_text(json.dumps(WORKERS[(task, lib)](args)))
        return 0
    p = argparse.ArgumentParser(description="the network zoo against torch")
    p.add_argument("--only", default="vae,gan,attacks,ae")
    p.add_argument("--epochs", type=int, default=None, help="epochs for every row (default: each row's recipe)")
    p.add_argument("--limit", type=int, default=None, help="training images (default all 60,000)")
    p.add_argument("--quick", action="store_true", help="1 epoch on 6,000 images")
    p.add_argument("--judge", metavar="PATH", help="LeNet-5 weights to judge with (no training)")
    p.add_argument("--gan", choices=("dcgan", "mlp"), default="dcgan", help="the GAN row's networks")
    args = p.parse_args(argv)
    rows = args.only.split(",")
    limit = 6000 if args.quick else args.limit

    def ep(default: int) -> int:
        return 1 if args.quick else (args.epochs or default)

    lines = [f"# zoo benchmark ({time.strftime('%Y-%m-%d %H:%M')}, limit {limit or 60000} training images)"]

    def say(s: str) -> None:
        print(s, flush=True)
        lines.append(s)

    tmp = Path(tempfile.mkdtemp(prefix="gradlab-zoo-"))
    weights = str(tmp / "lenet.safetensors")
    if "vae" in rows:
        e = ep(10)
        g = _run("vae", "gradlab", {"seed": 0, "epochs": e, "limit": limit})
        t = _run("vae", "torch", {"seed": 0, "epochs": e, "limit": limit})
        say(f"VAE 784-400-20, {e} epochs: test -ELBO gradlab {g['neg_elbo']:.2f} (recon {g['recon']:.2f} + KL "
            f"{g['kl']:.2f}) vs torch {t['neg_elbo']:.2f} (recon {t['recon']:.2f} + KL {t['kl']:.2f}) nats/image; "
            f"epoch time gradlab/torch median {_ratio(g['epoch_times'], t['epoch_times']):.2f}x "
            f"({np.median(g['epoch_times']):.1f}s vs {np.median(t['epoch_times']):.1f}s)")
    if args.judge:
        weights = args.judge
        say(f"LeNet-5 judge: {weights}")
    elif "gan" in rows or "attacks" in rows:
        j = _run("judge", "gradlab", {"epochs": ep(3), "limit": limit, "weights": weights})
        say(f"LeNet-5 judge (gradlab, {ep(3)} epochs, pixels in [0, 1]): test accuracy {j['test_accuracy']:.4f}")
    if "gan" in rows:
        from gradlab.train.pictures import save_image_grid

        e = ep(10 if args.gan == "dcgan" else 20)
        xt, _ = _mnist(False)
        from zoo_gan import DCGAN_BATCH, DCGAN_CHANNELS, DCGAN_LATENT

        name = (f"DCGAN {DCGAN_CHANNELS}, z {DCGAN_LATENT}, batch {DCGAN_BATCH}" if args.gan == "dcgan"
                else "GAN (MLP)")
        for lib in ("gradlab", "torch"):
            r = _run("gan" if args.gan == "mlp" else "dcgan", lib,
                     {"seed": 0, "epochs": e, "limit": limit, "samples": str(tmp / f"{lib}.npy")})
            samples = np.load(tmp / f"{lib}.npy")
            s = _judge(weights, samples, xt)
            grid = save_image_grid(samples[:100], HERE / "results" / f"zoo-gan-{args.gan}-{lib}.png", ncols=10,
                                   title=f"{name}, {lib}, {e} epochs")
            say(f"{name} {lib}, {e} epochs ({np.median(r['epoch_times']):.1f}s/epoch): {s['confident']:.1%} of "
                f"1000 samples with confidence > 0.9, smallest class {s['min_class_share']:.1%}, FID(LeNet-84) "
                f"{s['fid']:.2f}" + (f"; last epoch d_loss {r['d_loss'][-1]:.3f}, g_loss {r['g_loss'][-1]:.3f}"
                                     if "d_loss" in r else "") + f"; samples {grid}")
    if "attacks" in rows:
        n = 1000
        g = _run("attacks", "gradlab", {"weights": weights, "n": n})
        t = _run("attacks", "torch", {"weights": weights, "n": n})
        say(f"accuracy under attack, {n} test digits (eps: " + ", ".join(f"{e:g}" for e in EPSILONS) + ")")
        for k in ("fgsm", "pgd"):
            say(f"  {k:4s} gradlab " + " ".join(f"{v:.3f}" for v in g[k]))
            say(f"  {k:4s} torch   " + " ".join(f"{v:.3f}" for v in t[k]))
            say(f"  {k:4s} max |diff| {max(abs(a - b) for a, b in zip(g[k], t[k])) * 100:.2f} points")
        a = _run("advtrain", "gradlab", {"epochs": ep(3), "limit": limit, "n": n})
        say(f"FGSM-adversarially trained LeNet-5 ({ep(3)} epochs, eps 0.1, half of each batch): clean "
            f"{a['clean']:.3f}, FGSM 0.1 {a['fgsm_0.1']:.3f}, PGD-10 0.1 {a['pgd_0.1']:.3f}")
    if "ae" in rows:
        e = ep(10)
        r = _run("ae", "gradlab", {"epochs": e, "limit": limit})
        say(f"AE vs denoising AE, {e} epochs, recon loss on test digits + N(0, 0.5^2) noise: plain "
            f"{r['ae']['noisy']:.1f}, denoising {r['dae']['noisy']:.1f} nats/image (clean: {r['ae']['clean']:.1f}, "
            f"{r['dae']['clean']:.1f})")
        say(f"sparse AE (KL, target 0.05): mean code activation {r['sae']['code_mean']:.4f} "
            f"({abs(r['sae']['code_mean'] / 0.05 - 1):.1%} from the target)")
    out = HERE / "results" / f"zoo-{'-'.join(rows)}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("wrote", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
