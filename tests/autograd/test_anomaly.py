"""gradlab.autograd.detect_anomaly / set_detect_anomaly: backward names the op whose backward first made NaN/inf."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab.autograd import Function, detect_anomaly, is_anomaly_enabled, set_detect_anomaly


def _nan_graph(lib, x):
    y = x.sqrt()  # at 0: forward 0, backward grad / (2 * 0)
    return (y * 0.0).sum()  # the incoming gradient of sqrt is 0: 0 / 0 = nan


def test_names_the_first_op_whose_backward_made_nan_and_its_forward_line():
    x = gradlab.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly():
        loss = _nan_graph(gradlab, x)
        with pytest.raises(RuntimeError) as err:
            loss.backward()
    msg = str(err.value)
    assert msg.startswith("Function 'SqrtBackward0' (")
    assert "returned nan values in its 0th output" in msg
    assert "y = x.sqrt()" in msg  # the traceback of the forward call
    assert x.grad is None  # nothing accumulated past the failing op


def test_same_op_as_torch(torch):
    x = torch.tensor([0.0, 4.0], requires_grad=True)
    with pytest.warns(UserWarning), torch.autograd.detect_anomaly():
        loss = _nan_graph(torch, x)
        with pytest.raises(RuntimeError) as terr:
            loss.backward()
    g = gradlab.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly():
        loss = _nan_graph(gradlab, g)
        with pytest.raises(RuntimeError) as gerr:
            loss.backward()
    torch_op = str(terr.value).split("'")[1]
    assert torch_op == str(gerr.value).split("'")[1] == "SqrtBackward0"


def test_inf_is_reported_too():
    x = gradlab.tensor([0.0], requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly(), pytest.raises(RuntimeError, match="returned inf values"):
        x.sqrt().sum().backward()


def test_off_by_default_and_free_when_off():
    plain_apply = Function.__dict__["apply"]
    assert not is_anomaly_enabled()
    x = gradlab.tensor([0.0], requires_grad=True)
    with np.errstate(all="ignore"):
        _nan_graph(gradlab, x).backward()  # no check: the NaN gradient just arrives
    assert np.isnan(x.grad._data).all()
    with detect_anomaly():
        assert Function.__dict__["apply"] is not plain_apply  # the recording apply only while the mode is on
    assert Function.__dict__["apply"] is plain_apply


def test_set_detect_anomaly_nesting_decorator_and_check_nan():
    _ = set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    finally:
        _ = set_detect_anomaly(False)
    assert not is_anomaly_enabled()

    @detect_anomaly()
    def step(x):
        assert is_anomaly_enabled()
        _nan_graph(gradlab, x).backward()

    with np.errstate(all="ignore"), pytest.raises(RuntimeError, match="SqrtBackward"):
        step(gradlab.tensor([0.0], requires_grad=True))
    assert not is_anomaly_enabled()  # restored after the exception

    x = gradlab.tensor([0.0], requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly(check_nan=False):
        _nan_graph(gradlab, x).backward()
    assert np.isnan(x.grad._data).all()


def test_finite_backward_is_unchanged_in_anomaly_mode():
    a = gradlab.tensor(np.linspace(0.5, 2.0, 6).reshape(2, 3), requires_grad=True)
    with detect_anomaly():
        (a.exp() * a).sum().backward()
    expected = np.exp(a._data) * (1 + a._data)
    np.testing.assert_allclose(a.grad._data, expected, rtol=1e-6)
