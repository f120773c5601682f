"Tensor layers, initialisation and fused losses: against PyTorch, and against the scalar engine."
import math, random
import numpy as np
import pytest
from oracle import torch
from hypothesis import given, settings, strategies as st
from gc_check import cyclic_garbage
from layout import LAYOUTS, laid_out

import backprop_nb.nn as nn
import backprop_nb.losses as losses
from backprop_nb.tensor import Tensor, no_grad
from backprop_nb.tensor_nn import (Linear, Tanh, Sigmoid, Sequential, MLP, manual_seed, calculate_gain,
                                   kaiming_uniform_, xavier_uniform_, mse_loss, cross_entropy,
                                   binary_cross_entropy_with_logits, hinge_loss)
from backprop_nb.autograd import Value, gradcheck
from backprop_nb.optim import SGD, Adam

pytestmark = pytest.mark.usefixtures('torch_float64')   # tests/conftest.py
F = torch.nn.functional

# ---------------------------------------------------------------- initialisation
@pytest.mark.parametrize('nl,param', [('linear', None), ('sigmoid', None), ('tanh', None), ('relu', None),
                                      ('leaky_relu', None), ('leaky_relu', math.sqrt(5)), ('leaky_relu', 0.2)])
def test_calculate_gain_matches_torch(nl, param):
    assert calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))

def test_init_bounds_match_torch():
    # Both libraries draw U(-bound, bound); compare the bound each one reaches, not one random draw with
    # another. With n samples the largest |x| falls short of the bound by about bound/n, so 60,000 weights
    # pin the bound to 0.1%; 200 biases only to a few percent. Both generators are seeded: no luck involved.
    manual_seed(0); torch.manual_seed(0)
    lin, tlin = Linear(300, 200), torch.nn.Linear(300, 200)
    bound = 1 / math.sqrt(300)
    for ours, theirs, rel in [(lin.weight, tlin.weight, 1e-3), (lin.bias, tlin.bias, 0.05)]:
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float32
        for top in (np.abs(ours.data).max(), theirs.detach().abs().max().item()):
            assert bound * (1 - rel) <= top <= bound
        assert ours.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    for fn, kw in [(kaiming_uniform_, {}), (kaiming_uniform_, dict(a=0.1, mode='fan_out', nonlinearity='relu')), (xavier_uniform_, dict(gain=2.0))]:
        w, tw = Tensor(np.zeros((150, 400)), requires_grad=True), torch.zeros(150, 400)
        torch.manual_seed(1)
        fn(w, **kw, generator=np.random.default_rng(1)); getattr(torch.nn.init, fn.__name__)(tw, **kw)
        assert np.abs(w.data).max() == pytest.approx(tw.abs().max().item(), rel=2e-3)
        assert w.data.std() == pytest.approx(tw.std().item(), rel=0.02)

def test_manual_seed_reproduces():
    manual_seed(3); a = MLP(4, [5, 2]).state_dict()
    manual_seed(3); b = MLP(4, [5, 2]).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)

# ---------------------------------------------------------------- modules
def test_module_api():
    net = Sequential(Linear(3, 4), Tanh(), Linear(4, 2, bias=False), Sigmoid())
    assert [n for n, _ in net.named_parameters()] == ['0.weight', '0.bias', '2.weight']
    assert len(net) == 4 and isinstance(net[1], Tanh) and net.num_parameters() == 3 * 4 + 4 + 4 * 2
    out = net.forward_batch(np.ones((5, 3)))
    assert isinstance(out, Tensor) and out.shape == (5, 2) and ((out.data > 0) & (out.data < 1)).all()
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    sd = net.state_dict()
    sd['0.weight'][...] = 7
    assert not (net[0].weight.data == 7).any()   # a copy
    net.load_state_dict(sd)
    assert (net[0].weight.data == 7).all()
    with pytest.raises(ValueError, match=r"parameter '2.weight' has shape \(2, 4\) in the model but \(4, 2\)"):
        net.load_state_dict({**sd, '2.weight': np.zeros((4, 2))})
    assert 'Linear(in_features=3, out_features=4, bias=True)' in repr(net)

def test_loads_a_torch_state_dict_and_computes_the_same():
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    net = MLP(5, [7, 3], dtype=np.float64)
    net.load_state_dict({k: v.detach().numpy() for k, v in tnet.state_dict().items()})
    X = np.random.default_rng(0).standard_normal((6, 5))
    np.testing.assert_allclose(net(X).data, tnet(torch.tensor(X)).detach().numpy(), rtol=1e-12)

def test_sgd_and_adam_steps_match_torch():
    for make, tmake in [(lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
                        (lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01))]:
        torch.manual_seed(1)
        tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        net = MLP(4, [8, 3], dtype=np.float64)
        net.load_state_dict({k: v.detach().numpy().copy() for k, v in tnet.state_dict().items()})
        opt, topt = make(net.parameters()), tmake(tnet.parameters())
        r = np.random.default_rng(0)
        for _ in range(5):
            X, y = r.standard_normal((16, 4)), r.integers(0, 3, 16)
            opt.zero_grad(); cross_entropy(net(X), y).backward(); opt.step()
            topt.zero_grad(); F.cross_entropy(tnet(torch.tensor(X)), torch.tensor(y)).backward(); topt.step()
        for k, v in tnet.state_dict().items():
            np.testing.assert_allclose(net.state_dict()[k], v.numpy(), rtol=1e-9, atol=1e-12)

def test_scalar_and_tensor_mlp_agree():
    random.seed(4)
    smlp = nn.MLP(4, [6, 5, 3])
    tmlp = MLP.from_scalar(smlp)
    X, y = np.random.default_rng(1).standard_normal((7, 4)), np.arange(7) % 3
    s_out = smlp.forward_batch(X.tolist())
    t_out = tmlp.forward_batch(X)
    np.testing.assert_allclose(t_out.data, [[v.data for v in r] for r in s_out], rtol=1e-12, atol=1e-14)
    s_loss, t_loss = losses.cross_entropy(s_out, y), cross_entropy(t_out, y)
    s_loss.backward(); t_loss.backward()
    assert t_loss.item() == pytest.approx(s_loss.data, rel=1e-12)
    for lin, layer in zip(tmlp[::2], smlp.layers):
        np.testing.assert_allclose(lin.weight.grad, [[w.grad for w in n.w] for n in layer.neurons], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(lin.bias.grad, [n.b.grad for n in layer.neurons], rtol=1e-10, atol=1e-14)

def test_scalar_and_tensor_agree_for_one_output_and_mse():
    random.seed(2)
    smlp = nn.MLP(3, [4, 1])
    tmlp = MLP.from_scalar(smlp)
    X, y = np.random.default_rng(3).standard_normal((5, 3)), np.linspace(-1, 1, 5)
    s_loss = losses.mse_loss(smlp.forward_batch(X.tolist()), y); s_loss.backward()
    t_loss = mse_loss(tmlp(X), y); t_loss.backward()
    assert t_loss.item() == pytest.approx(s_loss.data, rel=1e-12)
    np.testing.assert_allclose(tmlp[0].weight.grad, [[w.grad for w in n.w] for n in smlp.layers[0].neurons], rtol=1e-10)

# ---------------------------------------------------------------- losses vs torch
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), k=st.integers(2, 40), seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 50.0, 1000.0]),
       reduction=st.sampled_from(['mean', 'sum']), layout=st.sampled_from(LAYOUTS))
def test_losses_match_torch(n, k, seed, scale, reduction, layout):
    r = np.random.default_rng(seed)
    z = r.standard_normal((n, k)) * scale
    t, y01, yr = r.integers(0, k, n), r.random((n, k)), r.standard_normal((n, k))
    for ours, theirs, target in [(cross_entropy, F.cross_entropy, t), (binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, y01),
                                 (mse_loss, F.mse_loss, yr)]:
        x, tx = Tensor(laid_out(z, layout), requires_grad=True), torch.tensor(z, requires_grad=True)
        loss, tloss = ours(x, target, reduction=reduction), theirs(tx, torch.tensor(target), reduction=reduction)
        loss.backward(); tloss.backward()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-10, abs=1e-10), ours.__name__
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)

def test_loss_targets_shapes_and_float32():
    z = Tensor(np.zeros((4, 1), np.float32), requires_grad=True)
    for f in (mse_loss, binary_cross_entropy_with_logits):
        loss = f(z, [0.0, 1.0, 1.0, 0.0])       # (n,) targets fit (n, 1) predictions
        assert loss.dtype == np.float32
        loss.backward()
        assert z.grad.dtype == np.float32
    assert cross_entropy(Tensor(np.zeros((3, 2), np.float32)), np.array([[0], [1], [1]])).dtype == np.float32

def test_loss_errors():
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="cross_entropy: expected a Tensor"):
        cross_entropy([[0.0]], [0])
    with pytest.raises(ValueError, match="targets must be class indices in 0..3"):
        cross_entropy(z, [0, 4, 1])
    for dtype in (np.int8, np.int32, '>i8', np.uint8, np.uint64):   # every integer type, both ends of the range
        low = np.iinfo(dtype).min if np.dtype(dtype).kind == 'i' else None
        for bad in ([[0, 1, -1]] if low is not None else []) + [[0, 1, 4], [0, 1, np.iinfo(dtype).max]] + ([[low, 0, 1]] if low is not None else []):
            with pytest.raises(ValueError, match=f"got values from {min(bad)} to {max(bad)}"):
                cross_entropy(z, np.array(bad, dtype=dtype))
        assert cross_entropy(z, np.array([0, 3, 2], dtype=dtype)).item() == pytest.approx(np.log(4))
    with pytest.raises(TypeError, match="integer class indices"):
        cross_entropy(z, [0.5, 1, 2])
    with pytest.raises(ValueError, match=r"3 examples but targets of shape \(2,\)"):
        cross_entropy(z, [0, 1])
    with pytest.raises(ValueError, match="targets must be in"):
        binary_cross_entropy_with_logits(z, np.full((3, 4), 2.0))
    with pytest.raises(ValueError, match="reduction must be"):
        mse_loss(z, np.zeros((3, 4)), reduction='none')

def test_loss_version_check():
    z = Tensor(np.zeros((2, 3)), requires_grad=True)
    loss = cross_entropy(z, [0, 1])
    with no_grad(): z += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()

# ---------------------------------------------------------------- public paths (notebooks 02, 03 and 10)
def test_tensor_layers_live_in_tensor_nn_only():
    import backprop_nb.tensor_nn as tnn
    names = {'Linear', 'ReLU', 'Tanh', 'Sigmoid', 'Sequential', 'MLP', 'kaiming_uniform_', 'xavier_uniform_', 'manual_seed',
             'mse_loss', 'cross_entropy', 'binary_cross_entropy_with_logits', 'hinge_loss'}
    assert names <= set(tnn.__all__)
    assert not hasattr(nn, 'TensorMLP') and not hasattr(nn, 'Linear') and not hasattr(nn, '__getattr__')   # no lazy re-exports
    assert nn.MLP is not tnn.MLP and issubclass(tnn.Linear, nn.Module) and issubclass(tnn.ReLU, nn.Module)
    assert tnn.manual_seed is nn.manual_seed                                  # one seeding function, re-exported

def test_manual_seed_seeds_both_engines():
    manual_seed(11); t1, s1 = MLP(3, [4, 2]).state_dict(), nn.MLP(3, [4, 2]).state_dict()
    manual_seed(11); t2, s2 = MLP(3, [4, 2]).state_dict(), nn.MLP(3, [4, 2]).state_dict()
    assert all(np.array_equal(t1[k], t2[k]) for k in t1) and all(np.array_equal(s1[k], s2[k]) for k in s1)
    with pytest.raises(TypeError, match='seed must be an int'): manual_seed('1')
    with pytest.raises(ValueError, match='seed must be at least 0'): manual_seed(-1)

# ---------------------------------------------------------------- memory
def test_no_garbage_after_training_steps():
    manual_seed(0)
    net = MLP(8, [16, 16, 4])
    opt = Adam(net.parameters(), lr=0.01)
    r = np.random.default_rng(0)
    def step():
        X, y = r.standard_normal((32, 8)).astype(np.float32), r.integers(0, 4, 32)
        opt.zero_grad(); cross_entropy(net(X), y).backward(); opt.step()
    step()
    assert cyclic_garbage(step, Tensor, repeat=2) == []

# ---------------------------------------------------------------- tensor losses against their scalar twins (chapter 3)
def vals(a):
    "Values shaped like forward_batch's output: a list of Values for 1-D, a list of lists for 2-D."
    a = np.asarray(a, dtype=np.float64)
    return [Value(float(v)) for v in a] if a.ndim == 1 else [[Value(float(v)) for v in r] for r in a]

def grads(vs): return np.array([v.grad for v in vs] if isinstance(vs[0], Value) else [[v.grad for v in r] for r in vs])

def sum_squared_error(input, target): return mse_loss(input, target, reduction='sum')   # the seed's loss, for tensors
SCALAR = {mse_loss: losses.mse_loss, hinge_loss: losses.hinge_loss, sum_squared_error: losses.sum_squared_error,
          binary_cross_entropy_with_logits: losses.binary_cross_entropy_with_logits, cross_entropy: losses.cross_entropy}

def tensor_and_scalar(loss, x, t, **kw):
    "Our loss on a float64 Tensor and on Values: (tensor loss, tensor grad, scalar loss, scalar grads)."
    tx = Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out = loss(tx, t, **kw); out.backward()
    v = vals(x)
    sv = SCALAR[loss](v, t, **kw); sv.backward()
    return out, tx.grad, sv.data, grads(v)

CASES = [  # loss, predictions, targets
    (mse_loss, [[0.5, -1.0], [2.0, 0.25], [1.0, 1.0]], [[0.0, 1.0], [2.5, 0.0], [1.0, -1.0]]),
    (mse_loss, [0.5, -1.0, 2.0], [0.0, 1.0, 2.5]),
    (sum_squared_error, [0.5, -1.0, 2.0], [0.0, 1.0, 2.5]),
    (hinge_loss, [2.0, 0.5, -3.0, 0.2], [1, 1, -1, -1]),
    (hinge_loss, [2.0, 0.5, -3.0, 0.2], [1, 1, 0, 0]),
    (binary_cross_entropy_with_logits, [0.3, -2.0, 4.0, 0.0], [1.0, 0.0, 0.25, 1.0]),
    (cross_entropy, [[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], [2, 1]),
]

@pytest.mark.parametrize('i', range(len(CASES)))
def test_tensor_path_matches_the_scalar_path(i):
    loss, x, t = CASES[i]
    out, g, s, sg = tensor_and_scalar(loss, x, t)
    assert isinstance(out, Tensor) and out.shape == ()
    np.testing.assert_allclose(out.item(), s, rtol=1e-12)
    np.testing.assert_allclose(g, sg, rtol=1e-12, atol=1e-15)

@pytest.mark.parametrize('loss,x,t', [(mse_loss, [[0.5], [-1.0]], [0.0, 1.0]), (hinge_loss, [[2.0], [0.5], [-3.0]], [1, 1, 0]),
                                      (binary_cross_entropy_with_logits, [[0.3], [-2.0]], [1.0, 0.0])])
def test_tensor_path_takes_n_by_1_predictions_with_n_targets(loss, x, t):
    out, g, s, sg = tensor_and_scalar(loss, x, t)
    np.testing.assert_allclose(out.item(), s, rtol=1e-12)
    assert g.shape == (len(x), 1)

def test_tensor_path_reduction_sum():
    for loss, x, t in CASES:
        if loss is sum_squared_error: continue
        out, g, s, sg = tensor_and_scalar(loss, x, t, reduction='sum')
        np.testing.assert_allclose(out.item(), s, rtol=1e-12)
        np.testing.assert_allclose(g, sg, rtol=1e-12, atol=1e-15)

@pytest.mark.parametrize('loss,t', [(mse_loss, np.zeros((0, 1))), (binary_cross_entropy_with_logits, np.zeros((0, 1))),
                                    (cross_entropy, np.zeros(0, int)), (hinge_loss, np.zeros(0, int))])
@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_tensor_losses_refuse_an_empty_batch_like_the_scalar_ones(loss, t, reduction):
    x = Tensor(np.zeros((0, 1)), requires_grad=True)
    with pytest.raises(ValueError, match='empty batch'): loss(x, t, reduction=reduction)
    with pytest.raises(ValueError, match='empty batch'): getattr(losses, loss.__name__)([], [], reduction=reduction)

def test_tensor_hinge_matches_torch_and_gradcheck():
    r = np.random.default_rng(0)
    s, y = r.standard_normal(8), r.choice([-1.0, 1.0], 8)
    tx = Tensor(s, requires_grad=True)
    out = hinge_loss(tx, y); out.backward()
    ts = torch.tensor(s, requires_grad=True)
    tout = torch.clamp(1 - ts * torch.tensor(y), min=0).mean(); tout.backward()
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
    np.testing.assert_allclose(tx.grad, ts.grad.numpy(), rtol=1e-12)
    assert gradcheck(lambda z: hinge_loss(z, y), Tensor(s + 0.01, requires_grad=True))

def test_tensor_path_keeps_float32():
    z = Tensor(np.ones((4, 3)), requires_grad=True, dtype=np.float32)
    for out in (cross_entropy(z, [0, 1, 2, 0]), mse_loss(z, np.zeros((4, 3))), hinge_loss(z[:, 0], [1, 0, 1, 0]),
                binary_cross_entropy_with_logits(z, np.ones((4, 3)))):
        assert out.dtype == np.float32, out

def test_tensor_path_errors_name_the_function():
    z = Tensor(np.zeros((3, 2)), requires_grad=True)
    with pytest.raises(ValueError, match="hinge_loss: expected one score per example"): hinge_loss(z, [1, 0, 1])
    with pytest.raises(ValueError, match="hinge_loss: labels must be all in"): hinge_loss(z[:, 0], [1, 0, 2])
    with pytest.raises(ValueError, match="hinge_loss: reduction must be"): hinge_loss(z[:, 0], [1, 0, 1], reduction='max')
    with pytest.raises(ValueError, match="cross_entropy: targets must be class indices in 0..1"): cross_entropy(z, [0, 1, 2])
    with pytest.raises(ValueError, match="mse_loss: predictions of shape"): mse_loss(z, np.zeros(5))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: targets must be in"): binary_cross_entropy_with_logits(z, np.full((3, 2), 2.0))

def test_a_torch_sequential_state_dict_loads_as_it_is():
    "Chapter 9 says it: the state_dict of a torch Sequential of Linear/ReLU loads into our MLP of the same sizes, and the outputs agree."
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    ours = MLP(3, [8, 8, 2], dtype=np.float64)
    before = ours.state_dict()
    ours.load_state_dict(tnet.state_dict())
    X = np.random.default_rng(0).standard_normal((5, 3))
    want = tnet(torch.tensor(X)).detach().numpy()
    np.testing.assert_allclose(ours(X).data, want, rtol=1e-12, atol=1e-12)
    assert not np.allclose(before['0.weight'], ours.state_dict()['0.weight'])     # the weights did change
