"""gradlab.models: the MLP and the model registry."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.models import ACTIVATIONS, MLP, build_model, list_models, make_activation, register_model, unregister_model


def _kinds(model):
    return [type(m).__name__ for m in model]


def test_default_mlp_is_784_512_512_10():
    m = MLP()
    assert _kinds(m) == ["Flatten", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [(l.in_features, l.out_features) for l in m if isinstance(l, nn.Linear)] == [(784, 512), (512, 512),
                                                                                       (512, 10)]
    assert sum(p.numel() for p in m.parameters()) == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10
    assert isinstance(m, nn.Sequential)


def test_mlp_options():
    m = MLP(20, hidden=(16, 8), out_features=3, activation="tanh", dropout=0.5, batch_norm=True)
    assert _kinds(m) == ["Flatten", "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "BatchNorm1d", "Tanh",
                         "Dropout", "Linear"]
    assert m[4].p == 0.5
    assert MLP(5, hidden=(), out_features=2)[1].in_features == 5  # no hidden layer: logistic regression
    assert _kinds(MLP(5, hidden=4, out_features=2)) == ["Flatten", "Linear", "ReLU", "Linear"]


def test_mlp_forward_flattens_images_and_trains():
    gradlab.manual_seed(0)
    m = MLP(784, hidden=(32,), out_features=10, dropout=0.1, batch_norm=True)
    x = gradlab.randn(6, 1, 28, 28)
    out = m(x)
    assert out.shape == (6, 10)
    nn.CrossEntropyLoss()(out, gradlab.tensor([0, 1, 2, 3, 4, 5])).backward()
    assert all(p.grad is not None for p in m.parameters())
    m.eval()
    with gradlab.no_grad():
        a, b = m(x).numpy(), m(x).numpy()
    np.testing.assert_array_equal(a, b)  # eval mode: dropout off, running statistics


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_builds(name):
    act = make_activation(name)
    assert isinstance(act, nn.Module)
    out = MLP(4, hidden=(3,), out_features=2, activation=name)(gradlab.randn(2, 4))
    assert out.shape == (2, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"activation": "nope"}, "unknown activation"), ({"dropout": 1.0}, "dropout"), ({"dropout": -0.1}, "dropout"),
     ({"hidden": (0,)}, "positive"), ({"in_features": 0}, "positive")],
)
def test_mlp_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


def test_config_rebuilds_the_same_architecture():
    m = MLP(30, hidden=(7, 5), out_features=4, activation="gelu", dropout=0.25, batch_norm=True)
    cfg = m.config()
    assert cfg == {"in_features": 30, "hidden": [7, 5], "out_features": 4, "activation": "gelu", "dropout": 0.25,
                   "batch_norm": True}
    m2 = build_model("mlp", **cfg)
    assert list(m2.state_dict()) == list(m.state_dict())
    m2.load_state_dict(m.state_dict())
    m.eval(), m2.eval()
    x = gradlab.randn(3, 30)
    with gradlab.no_grad():
        np.testing.assert_array_equal(m(x).numpy(), m2(x).numpy())


def test_registry():
    assert "mlp" in list_models()
    assert isinstance(build_model("MLP", hidden=(4,)), MLP)  # names are case-insensitive

    @register_model("my_net")
    def my_net(width: int = 3):
        return nn.Linear(2, width)

    try:
        assert "my-net" in list_models()
        assert build_model("my-net", width=5).out_features == 5
        with pytest.raises(ValueError, match="already registered"):
            register_model("my_net", lambda: None)
    finally:
        unregister_model("my-net")
    with pytest.raises(ValueError, match="unknown model 'nope'.*mlp"):
        build_model("nope")


def test_registry_takes_the_same_builder_again_but_refuses_another_under_a_taken_name():
    from gradlab.models.registry import register_model, unregister_model

    def builder(n=1):
        return n

    register_model("registry-reimport-demo", builder)
    try:
        def builder(n=1):  # noqa: F811  (the same module and qualified name: a re-imported module's builder)
            return n + 1

        register_model("registry-reimport-demo", builder)

        def other(n=1):
            return n

        with pytest.raises(ValueError, match="already registered"):
            register_model("registry-reimport-demo", other)
    finally:
        unregister_model("registry-reimport-demo")
