"""The compatibility suite: PyTorch-style programs run unchanged on gradlab (``import torch`` mapped to gradlab)
and on torch, from the same initial weights and data; their losses must match."""

from __future__ import annotations

import numpy as np
import pytest

from tests.compat import (
    programs,
    programs_examples,
    programs_more,
    programs_scratch,
    programs_tutorials,
    programs_vision,
)
from tests.compat.shim import run_program


def _w(rng, *shape, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _linear(rng, name, n_in, n_out, init):
    init[f"{name}.weight"] = _w(rng, n_out, n_in)
    init[f"{name}.bias"] = _w(rng, n_out, scale=0.1)


def _mlp_case(rng):
    init: dict = {}
    _linear(rng, "fc1", 20, 32, init)
    _linear(rng, "fc2", 32, 10, init)
    data = {"x": rng.standard_normal((64, 20)).astype(np.float32), "y": rng.integers(0, 10, 64)}
    return programs.MLP_MANUAL_UPDATES, init, data


def _vae_case(rng):
    init: dict = {}
    for name, n_in, n_out in [("fc1", 16, 12), ("fc21", 12, 3), ("fc22", 12, 3), ("fc3", 3, 12), ("fc4", 12, 16)]:
        _linear(rng, name, n_in, n_out, init)
    data = {"x": rng.uniform(0, 1, (8, 16)).astype(np.float32),
            "eps": rng.standard_normal((4, 8, 3)).astype(np.float32)}
    return programs.VAE_STEP, init, data


def _char_rnn_case(rng):
    h = 16
    init = {"embed.weight": _w(rng, 11, 8, scale=1.0), "lstm.weight_ih_l0": _w(rng, 4 * h, 8),
            "lstm.weight_hh_l0": _w(rng, 4 * h, h), "lstm.bias_ih_l0": _w(rng, 4 * h, scale=0.1),
            "lstm.bias_hh_l0": _w(rng, 4 * h, scale=0.1)}
    _linear(rng, "decoder", h, 11, init)
    data = {"inp": rng.integers(0, 11, (3, 7)), "target": rng.integers(0, 11, (3, 7))}
    return programs.CHAR_RNN_STEP, init, data


def _regression_case(rng):
    init = {"w1": _w(rng, 10, 16), "w2": _w(rng, 16, 2)}
    data = {"x": rng.standard_normal((32, 10)), "y": rng.standard_normal((32, 2))}
    return programs.REGRESSION_MANUAL_SGD, init, data


def _self_contained(source):
    """A program that makes its own data (numpy, seeded) and takes its weights from ``load_init``."""
    return lambda rng: (source, {}, {})


CASES = {"mlp_manual_updates": _mlp_case, "vae_step": _vae_case, "char_rnn_step": _char_rnn_case,
         "regression_manual_sgd": _regression_case}
for _module in (programs_examples, programs_vision, programs_tutorials, programs_more, programs_scratch):
    for _name in _module.__all__:
        CASES[_name.lower()] = _self_contained(getattr(_module, _name))


@pytest.fixture
def torch_one_thread(torch):
    """torch with one intra-op thread: these small programs run many tiny ops, which OpenMP threads only slow down
    on a loaded machine (the LBFGS program took 30 s with the default threads, 1 s with one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.mark.filterwarnings("ignore:dropout2d")  # torch's warning on mnist_rnn's 2-D input (the example does it)
@pytest.mark.parametrize("name", list(CASES))
def test_program_losses_match_torch(torch_one_thread, name) -> None:
    source, init, data = CASES[name](np.random.default_rng(0))
    want = run_program(source, "torch", {k: v.copy() for k, v in init.items()}, data) if init else None
    if want is None:  # load_init fills the shared weights on the torch run, the gradlab run reads them
        init = {}
        want = run_program(source, "torch", init, data)
    got = run_program(source, "gradlab", {k: v.copy() for k, v in init.items()}, data)
    assert len(got) == len(want) > 1
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-5)


def test_the_shim_maps_torch_to_gradlab_only_in_the_gradlab_run() -> None:
    probe = "import torch\nimport torch.utils.data as d\nLOSSES.extend([torch.__name__ == 'gradlab', d.__name__])"
    src = probe.replace("d.__name__", "d.__name__ == 'gradlab.utils.data'")
    assert run_program(src, "gradlab", {}, {}) == [1.0, 1.0]
    assert run_program(src, "torch", {}, {}) == [0.0, 0.0]


def test_the_shim_refuses_unmapped_torch_modules() -> None:
    with pytest.raises(ImportError, match="no mapping"):
        run_program("import torch.distributed", "gradlab", {}, {})
    with pytest.raises(ImportError, match="no mapping"):
        run_program("import torch.no_such_module", "gradlab", {}, {})
