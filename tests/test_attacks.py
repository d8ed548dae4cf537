"""gradlab.attacks: FGSM and PGD give torch's adversarial images on the same LeNet-5 weights; budgets, clipping,
parameter gradients left alone, errors; the AdversarialTraining callback."""
from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn, optim
from gradlab.attacks import fgsm, pgd, robust_accuracy
from gradlab.data import DataLoader, TensorDataset
from gradlab.models import LeNet5
from gradlab.train import fit
from gradlab.train.adversarial import AdversarialTraining
from tests.helpers import to_numpy


def _digits(n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test digits in [0, 1] (structured images with flat black backgrounds), or random images without MNIST."""
    try:
        from gradlab.train.generative_runs import load_images

        x, y = load_images("mnist", train=False, limit=n)
        return x, y
    except (OSError, ValueError, RuntimeError):
        rng = np.random.default_rng(0)
        return rng.random((n, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, n)


def _pair(torch):
    gradlab.manual_seed(0)
    ours = LeNet5()
    tnn = torch.nn
    ref = tnn.Module()
    ref.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5),
                                  tnn.ReLU(), tnn.MaxPool2d(2))
    ref.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                                    tnn.Linear(84, 10))
    ref.forward = lambda x: ref.classifier(ref.features(x))
    ref.load_state_dict({k: torch.from_numpy(np.array(to_numpy(v))) for k, v in ours.state_dict().items()})
    return ours, ref


def _torch_grad(torch, ref, x, y):
    xt = x.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(ref(xt), y).backward()
    return xt.grad


def test_fgsm_matches_torch(torch) -> None:
    ours, ref = _pair(torch)
    x, y = _digits()
    for eps in (0.05, 0.1, 0.3):
        adv = to_numpy(fgsm(ours, x, y, eps))
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        expected = (xt + eps * _torch_grad(torch, ref, xt, yt).sign()).clamp(0, 1).numpy()
        np.testing.assert_allclose(adv, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_matches_torch(torch, random_start) -> None:
    ours, ref = _pair(torch)
    x, y = _digits()
    eps, alpha, steps = 0.1, 0.02, 5
    adv = to_numpy(pgd(ours, x, y, eps, alpha=alpha, steps=steps, random_start=random_start, seed=7))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    cur = xt.clone()
    if random_start:  # the documented start: numpy's default_rng(seed).uniform(-eps, eps)
        cur = (xt + torch.from_numpy(np.random.default_rng(7).uniform(-eps, eps, x.shape).astype(np.float32)))
        cur = torch.min(torch.max(cur, xt - eps), xt + eps).clamp(0, 1)
    for _ in range(steps):  # Madry et al.'s loop
        cur = cur + alpha * _torch_grad(torch, ref, cur, yt).sign()
        cur = torch.min(torch.max(cur, xt - eps), xt + eps).clamp(0, 1)
    np.testing.assert_allclose(adv, cur.numpy(), atol=1e-5, rtol=0)


def test_budget_clipping_and_untouched_model() -> None:
    gradlab.manual_seed(0)
    model = LeNet5()
    x, y = _digits(8)
    model.train()
    for p in model.parameters():
        assert p.grad is None
    for adv in (fgsm(model, x, y, 0.2), pgd(model, x, y, 0.2, steps=3, seed=0)):
        a = to_numpy(adv)
        assert np.abs(a - x).max() <= 0.2 + 1e-6 and a.min() >= 0 and a.max() <= 1
        assert not adv.requires_grad
    assert model.training and all(p.grad is None and p.requires_grad for p in model.parameters())
    np.testing.assert_array_equal(to_numpy(fgsm(model, x, y, 0.0)), x)
    unclipped = to_numpy(fgsm(model, x, y, 0.2, clip=None))
    moved = np.abs(unclipped - x)  # each pixel moves by exactly epsilon, or not at all where its gradient is 0
    assert np.all(np.isclose(moved, 0.2, atol=1e-6) | (moved == 0)) and np.isclose(moved, 0.2, atol=1e-6).mean() > 0.9


def test_attacks_lower_accuracy_and_work_with_any_loss() -> None:
    gradlab.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05),
        DataLoader(TensorDataset(gradlab.tensor(x), gradlab.tensor(y)), batch_size=50), epochs=30, progress=False)
    clean = robust_accuracy(model, x, y, "fgsm", 0.0, clip=None)
    assert clean > 0.95
    assert robust_accuracy(model, x, y, "fgsm", 0.5, clip=None) < clean - 0.2
    assert robust_accuracy(model, x, y, "pgd", 0.5, clip=None, steps=10, seed=0) <= \
        robust_accuracy(model, x, y, "fgsm", 0.5, clip=None) + 0.02
    # a regression model and its MSE: the attack moves the output away from the target
    reg = nn.Linear(3, 1)
    xr, yr = gradlab.randn(5, 3), gradlab.randn(5, 1)
    adv = fgsm(reg, xr, yr, 0.1, loss_fn=nn.MSELoss(), clip=None)
    with gradlab.no_grad():
        assert nn.MSELoss()(reg(adv), yr).item() > nn.MSELoss()(reg(xr), yr).item()


def test_bad_input() -> None:
    model = LeNet5()
    x, y = _digits(2)
    with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
        fgsm(model, x, y, -0.1)
    with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
        pgd(model, x, y, float("nan"))
    with pytest.raises(TypeError, match="epsilon must be a number"):
        fgsm(model, x, y, "0.1")
    with pytest.raises(ValueError, match="2 inputs but 3 labels"):
        fgsm(model, x, [0, 1, 2], 0.1)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        pgd(model, x, y, 0.1, steps=0)
    with pytest.raises(ValueError, match="clip must be"):
        fgsm(model, x, y, 0.1, clip=(1.0, 0.0))
    with pytest.raises(TypeError, match="floating point"):
        fgsm(model, x.astype(np.int64), y, 0.1)
    with pytest.raises(ValueError, match="unknown attack"):
        robust_accuracy(model, x, y, "deepfool")
    with pytest.raises(ValueError, match="epsilon"):
        AdversarialTraining("fgsm", epsilon=-1)
    with pytest.raises(ValueError, match="unknown attack"):
        AdversarialTraining("cw")


def test_adversarial_training_callback_recovers_robustness() -> None:
    # one robust feature (x0 = +-1, beyond the budget 0.5) and 39 weak ones (+-0.3 + N(0, 1)) that a plain network
    # leans on; an L-inf attack of 0.5 moves all of them at once (Tsipras et al.'s construction)
    rng = np.random.default_rng(0)
    n, d = 600, 40
    s = rng.integers(0, 2, n) * 2 - 1
    x = np.concatenate([s[:, None] * 1.0 + rng.normal(0, 0.1, (n, 1)),
                        s[:, None] * 0.3 + rng.normal(0, 1.0, (n, d - 1))], 1).astype(np.float32)
    y = (s > 0).astype(np.int64)

    def train(callbacks):
        gradlab.manual_seed(0)
        model = nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 2))
        loader = DataLoader(TensorDataset(gradlab.tensor(x), gradlab.tensor(y)), batch_size=50, shuffle=True,
                            generator=gradlab.Generator(0))
        fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), loader, epochs=20,
            progress=False, callbacks=callbacks)
        return model

    plain = train([])
    robust = train([AdversarialTraining("fgsm", epsilon=0.5, ratio=0.5)])
    assert len(robust._forward_pre_hooks) == 0  # the hook is gone after fit
    for model in (plain, robust):
        assert robust_accuracy(model, x, y, "fgsm", 0.0, clip=None) >= 0.97
    acc_plain = robust_accuracy(plain, x, y, "pgd", 0.5, clip=None, steps=10, seed=0)
    acc_robust = robust_accuracy(robust, x, y, "pgd", 0.5, clip=None, steps=10, seed=0)
    assert acc_plain < 0.5 and acc_robust > 0.7, (acc_plain, acc_robust)
