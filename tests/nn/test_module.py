"""Module, Parameter and the containers: registration, traversal, modes, state dicts, repr, hooks."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import gradlab
from gradlab import nn
from tests.helpers import assert_close
from tests.nn.common import copy_from_torch


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.block = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
        self.scale = nn.Parameter(gradlab.ones(3))
        self.register_buffer("offset", gradlab.zeros(3))
        self.register_buffer("scratch", gradlab.zeros(2), persistent=False)

    def forward(self, x):
        return self.block(self.act(self.fc1(x))) * self.scale + self.offset


class TorchNet:
    """The same structure in torch (built lazily, torch is an optional test dependency)."""

    @staticmethod
    def build(torch):
        class TNet(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc1 = torch.nn.Linear(4, 3)
                self.act = torch.nn.ReLU()
                self.block = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
                self.scale = torch.nn.Parameter(torch.ones(3))
                self.register_buffer("offset", torch.zeros(3))
                self.register_buffer("scratch", torch.zeros(2), persistent=False)

            def forward(self, x):
                return self.block(self.act(self.fc1(x))) * self.scale + self.offset

        return TNet()


# ---- Parameter -----------------------------------------------------------------------------------------------------
def test_parameter_basics() -> None:
    t = gradlab.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, gradlab.Tensor) and p.requires_grad and p.is_leaf
    p._data[0, 0] = 7.0
    assert t.data[0, 0] == 7.0  # shares memory, like torch
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter(np.ones(2)).dtype == np.float64
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert repr(p).startswith("Parameter containing:")
    with pytest.raises(RuntimeError):
        nn.Parameter(gradlab.tensor([1, 2]))  # integers cannot require grad
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q._data is not p._data and q.requires_grad


# ---- registration and traversal ------------------------------------------------------------------------------------
def test_named_parameters_buffers_and_modules(torch) -> None:
    net, tnet = Net(), TorchNet.build(torch)
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [n for n, _ in net.named_children()] == [n for n, _ in tnet.named_children()]
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert [n for n, _ in net.named_parameters(prefix="model", recurse=False)] == ["model.scale"]
    assert [n for n, _ in net.block.named_parameters(prefix="block")][:1] == ["block.0.weight"]
    assert len(list(net.parameters())) == 7 and len(list(net.buffers())) == 5
    assert len(list(net.modules())) == 6 and len(list(net.children())) == 3
    assert net.num_parameters() == sum(p.numel() for p in tnet.parameters())


def test_shared_parameters_and_modules_counted_once() -> None:
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 3
    assert len([m for m in seq.named_modules(remove_duplicate=False)]) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq.load_state_dict(seq.state_dict())


def test_setattr_getattr_delattr() -> None:
    m = nn.Module()
    m.w = nn.Parameter(gradlab.ones(2))
    m.sub = nn.Linear(2, 2)
    m.plain = 3
    assert "w" in m._parameters and "sub" in m._modules and m.plain == 3
    with pytest.raises(TypeError, match="cannot assign"):
        m.w = gradlab.ones(2)  # a plain tensor over a parameter
    m.w = None
    assert m.w is None and list(m.named_parameters())[0][0] == "sub.weight"
    with pytest.raises(TypeError):
        m.sub = 5
    m.register_buffer("buf", gradlab.zeros(1))
    m.buf = gradlab.ones(1)
    assert m.buf.item() == 1.0 and "buf" in m.state_dict()
    with pytest.raises(TypeError):
        m.buf = "nope"
    del m.sub, m.buf, m.plain
    assert not m._modules and not m._buffers and not hasattr(m, "plain")
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        _ = m.missing
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("w", gradlab.zeros(1))
    with pytest.raises(KeyError, match='"."'):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError):
        m.register_parameter("p", gradlab.ones(1))
    with pytest.raises(TypeError):
        m.add_module("x", 3)
    m.add_module("x", nn.ReLU())
    assert isinstance(m.get_submodule("x"), nn.ReLU)
    assert "x" in dir(m)


def test_assign_before_init_raises() -> None:
    class Bad(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(gradlab.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_train_eval_zero_grad_requires_grad_apply() -> None:
    net = Net()
    assert net.training and net.block[1].training
    assert net.eval() is net and not net.block[1].training
    net.train()
    assert net.block[1].training
    with pytest.raises(ValueError):
        net.train("yes")
    net.eval()
    net(gradlab.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(np.abs(p.grad._data).sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "BatchNorm1d", "Sequential", "Net"]


def test_module_dtype_conversion() -> None:
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.block[1].num_batches_tracked.dtype == np.int64
    assert net(gradlab.randn(3, 4).double()).dtype == np.float64
    net.to(gradlab.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())


# ---- state dicts -----------------------------------------------------------------------------------------------------
def test_state_dict_is_detached_and_shares_memory() -> None:
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict) and "scratch" not in sd
    assert all(not v.requires_grad and type(v) is gradlab.Tensor for v in sd.values())
    sd["fc1.weight"]._data[0, 0] = 42.0
    assert net.fc1.weight._data[0, 0] == 42.0
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_load_state_dict_copies_in_place_from_numpy_and_tensors(torch) -> None:
    net, tnet = Net(), TorchNet.build(torch)
    weight, data = net.fc1.weight, net.fc1.weight._data
    copy_from_torch(net, tnet)
    assert net.fc1.weight is weight and net.fc1.weight._data is data  # identity kept: optimizers keep working
    for k, v in tnet.state_dict().items():
        assert_close(net.state_dict()[k], v)
    other = Net()
    result = other.load_state_dict(net.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = gradlab.randn(6, 4)
    other.eval(), net.eval()
    assert_close(other(x), net(x))
    tnet.eval()
    assert_close(net(x), tnet(torch.from_numpy(x.numpy())), rtol=1e-5, atol=1e-6)


def test_load_state_dict_strict_errors_name_every_problem() -> None:
    net = Net()
    sd = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    del sd["fc1.bias"], sd["offset"]
    sd["extra.weight"] = np.zeros(2)
    sd["block.0.weight"] = np.zeros((5, 5))
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "offset", "fc1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for block.0.weight: copying a param with shape (5, 5)" in msg
    assert "the shape in current model is (3, 3)" in msg
    before = net.fc1.weight.detach().numpy().copy()
    sd["fc1.weight"] = np.full((3, 4), 9.0, dtype=np.float32)
    with pytest.raises(RuntimeError, match="size mismatch"):  # strict=False still refuses wrong shapes
        net.load_state_dict(sd, strict=False)
    assert np.array_equal(net.fc1.weight._data, before)  # nothing was copied
    sd["block.0.weight"] = np.eye(3)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["offset", "fc1.bias"] and res.unexpected_keys == ["extra.weight"]
    assert res == (["offset", "fc1.bias"], ["extra.weight"])
    assert net.fc1.weight._data[0, 0] == 9.0 and net.block[0].weight.dtype == np.float32


def test_optimizer_keeps_working_after_load_state_dict() -> None:
    from gradlab import optim

    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.load_state_dict({"weight": np.ones((1, 3)), "bias": np.zeros(1)})
    model(gradlab.ones(1, 3)).sum().backward()
    opt.step()
    assert_close(model.weight, np.full((1, 3), 0.9))


def test_deepcopy_gives_independent_module() -> None:
    net = Net()
    clone = copy.deepcopy(net)
    clone.fc1.weight._data[...] = 0
    assert not np.all(net.fc1.weight._data == 0)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]


# ---- repr and hooks -----------------------------------------------------------------------------------------------
def test_repr_matches_torch(torch) -> None:
    g = nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.25),
        nn.ModuleList([nn.Linear(8, 8), nn.Linear(8, 8), nn.Tanh()]),
        nn.ModuleDict({"head": nn.Linear(8, 2), "act": nn.LogSoftmax(dim=1)}),
        nn.BatchNorm1d(8), nn.LayerNorm([2, 4]), nn.Flatten(), nn.Identity(),
    )  # fmt: skip
    t = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.25),
        torch.nn.ModuleList([torch.nn.Linear(8, 8), torch.nn.Linear(8, 8), torch.nn.Tanh()]),
        torch.nn.ModuleDict({"head": torch.nn.Linear(8, 2), "act": torch.nn.LogSoftmax(dim=1)}),
        torch.nn.BatchNorm1d(8), torch.nn.LayerNorm([2, 4]), torch.nn.Flatten(), torch.nn.Identity(),
    )  # fmt: skip
    assert repr(g) == repr(t)
    assert repr(nn.Module()) == "Module()"
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_forward_hooks() -> None:
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape))
    out = lin(gradlab.ones(3, 2))
    assert calls == [(3, 2)]
    assert_close(out, np.broadcast_to(lin.bias._data, (3, 2)))
    h1.remove()
    h2.remove()
    lin(gradlab.ones(1, 2))
    assert calls == [(3, 2)]


def test_forward_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# ---- containers ------------------------------------------------------------------------------------------------------
def test_sequential() -> None:
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    x = gradlab.randn(4, 2)
    assert_close(seq(x), c(b(a(x))))
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is b
    named = nn.Sequential(OrderedDict([("enc", a), ("act", b)]))
    assert named.enc is a and [n for n, _ in named.named_children()] == ["enc", "act"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and "3" in seq._modules
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    seq.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Identity", "Tanh", "Linear", "Sigmoid"]
    assert isinstance(seq.pop(0), nn.Identity) and len(seq) == 3
    assert len(seq + nn.Sequential(nn.ReLU())) == 4
    with pytest.raises(IndexError):
        seq[10]


def test_module_list() -> None:
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers += [nn.Sigmoid()]
    assert len(layers) == 6 and isinstance(layers[-1], nn.Sigmoid)
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity) and len(layers) == 6
    layers[0] = nn.ELU()
    assert isinstance(layers[0], nn.ELU)
    owner = nn.Module()
    owner.layers = layers
    assert [n for n, _ in owner.named_parameters()][0] == "layers.1.weight"


def test_module_dict() -> None:
    d = nn.ModuleDict({"a": nn.Linear(2, 2)})
    d["b"] = nn.ReLU()
    d.update([("c", nn.Tanh())])
    assert list(d) == ["a", "b", "c"] and len(d) == 3 and "b" in d
    assert list(d.keys()) == ["a", "b", "c"] and isinstance(d["a"], nn.Linear)
    assert [type(v).__name__ for v in d.values()] == ["Linear", "ReLU", "Tanh"]
    del d["b"]
    assert isinstance(d.pop("c"), nn.Tanh) and list(d) == ["a"]
    d.clear()
    assert len(d) == 0
