"Tensor engine: forward and backward of every op against PyTorch (float64), and the engine's guarantees."
import sys
import numpy as np
import pytest
from oracle import torch, HAVE_TORCH, needs_torch
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis.extra.numpy import mutually_broadcastable_shapes, array_shapes
from gc_check import cyclic_garbage
from layout import LAYOUTS, laid_out

import backprop_nb.autograd as autograd
import backprop_nb.tensor as tt
from backprop_nb.autograd import Value, dot, gradcheck
from backprop_nb.tensor import (Tensor, no_grad, cat, stack, where, maximum, clip, softmax, log_softmax, linear,
                                zeros, ones, _unbroadcast, rowmax)

pytestmark = pytest.mark.usefixtures('torch_float64')   # tests/conftest.py
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

def arr(shape, seed, kind='normal'):
    r = np.random.default_rng(seed)
    a = r.standard_normal(shape)
    if kind == 'positive': a = np.abs(a) + 0.5
    if kind == 'away0': a = np.sign(a + 1e-12) * (np.abs(a) + 0.5)
    return a

def compare(ours, theirs, *arrays, seed=0, atol=1e-10):
    "Run `ours` on float64 Tensors and `theirs` on torch tensors; compare outputs and gradients of a random weighting."
    layout = LAYOUTS[seed % len(LAYOUTS)]   # C order, Fortran order or a strided view, in turn
    xs = [Tensor(laid_out(a, layout), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = ours(*xs), theirs(*ts)
    assert out.shape == tuple(tout.shape), (out.shape, tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=atol)
    w = np.random.default_rng(seed + 1).standard_normal(out.shape)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for x, t in zip(xs, ts):
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == np.float64
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=atol)

# ---------------------------------------------------------------- elementwise, with broadcasting
BINARY = {
    'add': (lambda a, b: a + b, lambda a, b: a + b, 'normal', 'normal'),
    'sub': (lambda a, b: a - b, lambda a, b: a - b, 'normal', 'normal'),
    'mul': (lambda a, b: a * b, lambda a, b: a * b, 'normal', 'normal'),
    'div': (lambda a, b: a / b, lambda a, b: a / b, 'normal', 'away0'),
    'pow': (lambda a, b: a ** b, lambda a, b: a ** b, 'positive', 'normal'),
    'maximum': (maximum, torch.maximum, 'normal', 'normal'),
    'where': (lambda a, b: where(a.data > b.data, a, b), lambda a, b: torch.where(a > b, a, b), 'normal', 'normal'),
}

@pytest.mark.parametrize('name', BINARY)
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast(name, shapes, seed):
    ours, theirs, ka, kb = BINARY[name]
    a, b = shapes.input_shapes
    compare(ours, theirs, arr(a, seed, ka), arr(b, seed + 7, kb), seed=seed)

UNARY = {
    'neg': (lambda a: -a, lambda a: -a, 'normal'),
    'exp': (lambda a: a.exp(), torch.exp, 'normal'),
    'log': (lambda a: a.log(), torch.log, 'positive'),
    'tanh': (lambda a: a.tanh(), torch.tanh, 'normal'),
    'sigmoid': (lambda a: a.sigmoid(), torch.sigmoid, 'normal'),
    'relu': (lambda a: a.relu(), torch.relu, 'normal'),
    'pow2': (lambda a: a ** 2, lambda a: a ** 2, 'normal'),
    'pow3': (lambda a: a ** 3, lambda a: a ** 3, 'normal'),
    'pow-1.5': (lambda a: a ** -1.5, lambda a: a ** -1.5, 'positive'),
    'pow0': (lambda a: a ** 0, lambda a: a ** 0, 'normal'),
    'rpow': (lambda a: 2.5 ** a, lambda a: 2.5 ** a, 'normal'),
    'radd': (lambda a: 3 + a, lambda a: 3 + a, 'normal'),
    'rsub': (lambda a: 1 - a, lambda a: 1 - a, 'normal'),
    'rmul': (lambda a: 0.5 * a, lambda a: 0.5 * a, 'normal'),
    'rdiv': (lambda a: 2 / a, lambda a: 2 / a, 'away0'),
    'sub_num': (lambda a: a - 1.5, lambda a: a - 1.5, 'normal'),
    'div_num': (lambda a: a / 4, lambda a: a / 4, 'normal'),
    'clip': (lambda a: a.clip(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), 'normal'),
    'clip_min': (lambda a: clip(a, min=0.1), lambda a: a.clamp(min=0.1), 'normal'),
    'clip_max': (lambda a: a.clip(max=0.1), lambda a: a.clamp(max=0.1), 'normal'),
    'maximum_num': (lambda a: a.maximum(0.2), lambda a: torch.clamp(a, min=0.2), 'normal'),
    'where_num': (lambda a: where(a.data > 0, a, 0.0), lambda a: torch.where(a > 0, a, 0.0), 'normal'),
    'double_then_float': (lambda a: a.float().double(), lambda a: a.float().double(), 'normal'),
}

@pytest.mark.parametrize('name', UNARY)
@SETTINGS
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=5), seed=st.integers(0, 2**16))
def test_unary_ops(name, shape, seed):
    ours, theirs, kind = UNARY[name]
    compare(ours, theirs, arr(shape, seed, kind), seed=seed, atol=1e-6 if 'float' in name else 1e-10)

@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 2**16))
def test_operands_that_are_arrays(shapes, seed):
    a, b = shapes.input_shapes
    B = arr(b, seed + 1)
    compare(lambda x: x * B - B / 3 + B ** 2 * x, lambda x: x * torch.tensor(B) - torch.tensor(B) / 3 + torch.tensor(B) ** 2 * x,
            arr(a, seed), seed=seed)
    compare(lambda x: B * x + B - x, lambda x: torch.tensor(B) * x + torch.tensor(B) - x, arr(a, seed), seed=seed)

# ---------------------------------------------------------------- reductions
@st.composite
def shape_and_dim(draw, min_dims=1):
    shape = draw(array_shapes(min_dims=min_dims, max_dims=4, max_side=4))
    nd = len(shape)
    dims = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                          st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    return shape, dims, draw(st.booleans())

@pytest.mark.parametrize('name', ['sum', 'mean', 'max'])
@SETTINGS
@given(sdk=shape_and_dim(), seed=st.integers(0, 2**16))
def test_reductions(name, sdk, seed):
    shape, dim, keepdim = sdk
    def theirs(t):
        d = tuple(range(t.ndim)) if dim is None else dim
        if name == 'max': return t.amax(dim=d, keepdim=keepdim)
        return getattr(t, name)(dim=d, keepdim=keepdim)
    ours = (lambda t: t.amax(dim=dim, keepdim=keepdim)) if name == 'max' else (lambda t: getattr(t, name)(dim=dim, keepdim=keepdim))
    compare(ours, theirs, arr(shape, seed), seed=seed)

def test_max_ties_share_gradient_like_amax():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    for dim in (None, 1, 0):
        compare(lambda t: t.amax(dim=dim), lambda t: t.amax(dim=tuple(range(2)) if dim is None else dim), a)

@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
@SETTINGS
@given(sd=shape_and_dim(), seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 30.0, 800.0]))
def test_softmax(name, sd, seed, scale):
    shape, _, _ = sd
    dim = seed % len(shape) - len(shape) * (seed % 2)   # a valid dim, positive or negative
    ours = softmax if name == 'softmax' else log_softmax
    theirs = getattr(torch, name)
    compare(lambda t: ours(t, dim=dim), lambda t: theirs(t, dim=dim), arr(shape, seed) * scale, seed=seed, atol=1e-9)

@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
@SETTINGS
@given(n=st.integers(1, 300), k=st.integers(1, 40), seed=st.integers(0, 2**16), scale=st.sampled_from([1.0, 800.0]))
def test_softmax_of_a_batch_of_rows(name, n, k, seed, scale):
    "Batches of logits, (n, k) with dim -1, take their own path for the row maximum (short rows): same results."
    ours, theirs = (softmax, torch.softmax) if name == 'softmax' else (log_softmax, torch.log_softmax)
    compare(lambda t: ours(t, dim=-1), lambda t: theirs(t, dim=-1), arr((n, k), seed) * scale, seed=seed, atol=1e-9)

@pytest.mark.parametrize('layout', LAYOUTS)
@pytest.mark.parametrize('n,k', [(0, 3), (1, 10), (8, 10), (9, 10), (256, 10), (40, 32), (40, 33), (5, 1), (300, 2)])
def test_row_max(n, k, layout):
    a = laid_out(np.random.default_rng(n + k).standard_normal((n, k)), layout)
    if n > 2: a[1, -1], a[2, :] = np.nan, -np.inf    # nan wins its row; a row of -inf has max -inf
    got, want = rowmax(a), a.max(axis=1, keepdims=True)
    assert got.shape == want.shape == (n, 1)
    np.testing.assert_array_equal(got, want)

def test_softmax_is_stable_in_float32():
    z = Tensor(np.array([[100.0, 0.0, -100.0], [1e4, 1e4, 0.0]], dtype=np.float32), requires_grad=True)
    for f in (softmax, log_softmax):
        out = f(z, dim=1)
        assert out.dtype == np.float32 and np.isfinite(out.data).all()
        (out * np.arange(6.0).reshape(2, 3)).sum().backward()
        assert np.isfinite(z.grad).all()
    np.testing.assert_allclose(log_softmax(z, dim=1).data[0], [0, -100, -200], atol=1e-4)

# ---------------------------------------------------------------- matmul and linear
@st.composite
def matmul_shapes(draw):
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3)).input_shapes
    left = draw(st.sampled_from(['vec', 'mat']))
    right = draw(st.sampled_from(['vec', 'mat']))
    a = (k,) if left == 'vec' else batch[0] + (m, k)
    b = (k,) if right == 'vec' else batch[1] + (k, n)
    return a, b

@SETTINGS
@given(shapes=matmul_shapes(), seed=st.integers(0, 2**16))
def test_matmul(shapes, seed):
    a, b = shapes
    compare(lambda x, y: x @ y, lambda x, y: x @ y, arr(a, seed), arr(b, seed + 3), seed=seed)

@SETTINGS
@given(batch=array_shapes(min_dims=0, max_dims=2, max_side=3), nin=st.integers(1, 5), nout=st.integers(1, 5),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_linear(batch, nin, nout, bias, seed):
    x, W, b = arr(batch + (nin,), seed), arr((nout, nin), seed + 1), arr((nout,), seed + 2)
    if bias: compare(linear, torch.nn.functional.linear, x, W, b, seed=seed)
    else: compare(linear, torch.nn.functional.linear, x, W, seed=seed)

def test_matmul_with_array_operands():
    B = arr((3, 2), 1)
    compare(lambda x: x @ B, lambda x: x @ torch.tensor(B), arr((4, 3), 0))
    compare(lambda x: B.T @ x, lambda x: torch.tensor(B.T) @ x, arr((3, 5), 0))

# ---------------------------------------------------------------- shapes, indexing, cat/stack
def test_shape_ops():
    a = arr((2, 3, 4), 0)
    compare(lambda t: t.reshape(4, -1), lambda t: t.reshape(4, -1), a)
    compare(lambda t: t.reshape((6, 4)).T, lambda t: t.reshape(6, 4).T, a)
    compare(lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2), a)
    compare(lambda t: t.transpose(-1, 1), lambda t: t.transpose(-1, 1), a)
    compare(lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1), a)
    compare(lambda t: t.T, lambda t: t.permute(2, 1, 0), a)
    compare(lambda t: t.flatten(), lambda t: t.flatten(), a)

@pytest.mark.parametrize('index', [
    (1,), (slice(None), 2), (slice(0, None, 2), slice(None), slice(1, 3)), (Ellipsis, -1), (None, 0),
    (np.array([2, 0, 2, 2]),), (np.array([0, 1, 1]), slice(None), np.array([3, 3, 0])),
    (slice(None), np.array([[0, 0], [2, 0]])), (np.array([1, 1]), 2, np.array([0, 0])),
])
def test_indexing(index):
    compare(lambda t: t[index], lambda t: t[tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)],
            arr((3, 3, 4), 0))

def test_boolean_mask_and_tensor_index():
    a = arr((3, 4), 0)
    compare(lambda t: t[t.data > 0], lambda t: t[t > 0], a)
    idx = Tensor(np.array([2, 2, 0]), dtype=np.int64)
    compare(lambda t: t[idx], lambda t: t[torch.tensor([2, 2, 0])], a)

def test_an_empty_index_list_selects_nothing_like_torch():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x[[]]
    assert y.shape == (0, 3)
    if HAVE_TORCH: assert tuple(torch.ones(2, 3)[[]].shape) == y.shape
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
    with pytest.raises(IndexError, match='integers or booleans'): x[[0.5]]

@pytest.mark.parametrize('bound', [np.float64(0.5), np.int64(0), np.float32(0.5), 0.5])
def test_clip_keeps_the_tensor_dtype_whatever_the_bound_type(bound):
    x = Tensor(np.array([-1.0, 0.25, 2.0], np.float32), requires_grad=True)
    y = x.clip(bound, 1.0)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.clip(x.data, float(bound), 1.0))

def test_repeated_indices_accumulate():
    x = Tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, 1, 3, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 4, 0, 1])
    x = Tensor(np.zeros((2, 3)), requires_grad=True)   # gather-like: (row, col) pairs, one repeated
    (x[np.array([0, 0, 1]), np.array([2, 2, 0])] * Tensor(np.array([1.0, 10.0, 100.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 11], [100, 0, 0]])

@pytest.mark.parametrize('dim', [0, 1, -1])
def test_cat_stack(dim):
    a, b, c = arr((2, 3), 0), arr((2, 3), 1), arr((2, 3), 2)
    compare(lambda x, y, z: cat([x, y, z, x], dim=dim), lambda x, y, z: torch.cat([x, y, z, x], dim=dim), a, b, c)
    compare(lambda x, y, z: stack([x, y, z], dim=dim), lambda x, y, z: torch.stack([x, y, z], dim=dim), a, b, c)
    compare(lambda x, y: cat([x, y], dim=1), lambda x, y: torch.cat([x, y], dim=1), arr((2, 1), 0), arr((2, 4), 1))

def test_cat_with_a_constant():
    x, c = Tensor(np.ones((2, 2)), requires_grad=True), Tensor(np.zeros((1, 2)))
    cat([x, c]).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))
    assert c.grad is None

def test_unbroadcast():
    g = np.arange(24.0).reshape(2, 3, 4)
    for shape in [(2, 3, 4), (3, 4), (4,), (1, 4), (3, 1), (2, 1, 1), (), (1, 1, 1)]:
        expected = torch.tensor(g).sum_to_size(shape).numpy() if shape else g.sum()
        np.testing.assert_allclose(_unbroadcast(g, shape), expected)
        assert _unbroadcast(g, shape).shape == shape

# ---------------------------------------------------------------- gradcheck on every op, float64
def test_gradcheck_composite():
    r = np.random.default_rng(5)
    x, W, b = (Tensor(r.standard_normal(s), requires_grad=True) for s in [(4, 3), (5, 3), (5,)])
    f = lambda x, W, b: (linear(x, W, b).tanh() @ W[:, ::-1].sigmoid()).log_softmax(dim=0).amax(dim=1).mean() \
        + cat([x, x.exp()], 1).sum(dim=0).relu().sum() / 7 + where(x.data > 0, x, 2 * x).clip(-1, 1).sum()
    assert gradcheck(f, x, W, b)

# ---------------------------------------------------------------- dtypes and the tensor API
def test_float32_stays_float32():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    assert x.dtype == np.float32
    y = ((x * 2.5 + 1) / 3 - 0.5) ** 2 + np.float64(1.5) * x + 2 ** x
    y = y.exp().log().tanh().sigmoid().relu().softmax(dim=1).log_softmax(dim=-1) @ Tensor([[1.0], [2.0]])
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32

def test_float64_is_kept_and_mixing_promotes():
    x = Tensor(np.ones(3), requires_grad=True)
    assert x.dtype == np.float64 and (x * 2).dtype == np.float64
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (w * x).sum()
    assert y.dtype == np.float64
    y.backward()
    assert w.grad.dtype == np.float32 and x.grad.dtype == np.float64   # leaves keep their dtype

def test_tensor_api():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.shape == (2, 2) and x.ndim == 2 and x.is_leaf and x.grad is None and x.numel() == 4 and len(x) == 2
    assert isinstance(x.numpy(), np.ndarray) and x.numpy() is x.data
    y = (x * x).sum()
    assert not y.is_leaf and y.requires_grad and y.item() == 30.0 and isinstance(y.item(), float)
    d = x.detach()
    assert d.is_leaf and not d.requires_grad and d.data is x.data
    with no_grad():
        z = x * 2
    assert not z.requires_grad and z.is_leaf and z._parents == ()
    assert not (Tensor([1.0]) * 2).requires_grad            # constants are not recorded
    c = Tensor([1.0]) * 2 + x                                # ... but mixing with a leaf is
    assert c.requires_grad and c._parents[0]._parents == ()
    assert zeros(2, 3).shape == (2, 3) and ones((4,)).data.sum() == 4
    assert 'requires_grad=True' in repr(x)

def test_no_grad_is_shared_with_autograd():
    import backprop_nb.tensor as tensor
    assert tensor.no_grad is autograd.no_grad
    assert autograd.flags.grad_enabled
    with no_grad():
        assert not autograd.flags.grad_enabled
        v = Value(2.0) * 3
    assert autograd.flags.grad_enabled and v._parents == ()

def test_backward_accumulates_in_leaves_and_resets_interior():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    y.backward(); y.backward()
    np.testing.assert_allclose(x.grad, 2 * 18 * x.data)       # twice
    np.testing.assert_allclose(h.grad, 2 * h.data)            # interior: once

def test_grad_arrays_are_private_and_writable():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad and a.grad.flags.writeable
    a.grad.fill(0)
    np.testing.assert_array_equal(b.grad, [1, 1])
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()   # the gradient is a broadcast view inside the pass; the leaf owns a copy
    assert x.grad.flags.writeable and x.grad.flags.owndata
    x.grad = 0.0          # what scalar-minded code may do
    x.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))

def test_module_zero_grad_on_tensor_parameters():
    nn = pytest.importorskip('backprop_nb.nn')
    class M(nn.Module):
        def __init__(self): self.W = Tensor(np.ones((2, 2)), requires_grad=True)
        def forward(self, x): return x @ self.W
    m = M()
    m(Tensor(np.ones((1, 2)))).sum().backward()
    assert m.parameters() == [m.W]
    m.zero_grad()
    assert m.W.grad is None or not m.W.grad.any()

# ---------------------------------------------------------------- in place changes and versions
def test_version_counter_catches_stale_graphs():
    x, w = Tensor([1.0, 2.0]), Tensor([3.0, 4.0], requires_grad=True)
    for change in (lambda: x.__iadd__(1), lambda: x.__imul__(2), lambda: x.__isub__(1), lambda: x.__itruediv__(2),
                   lambda: x.__setitem__(0, 5.0), lambda: x.zero_()):
        y = (w * x).sum()
        v = x._version
        change()
        assert x._version == v + 1
        with pytest.raises(RuntimeError, match=r"an input of '\*' \(shape \(2,\)\) was modified in place"):
            y.backward()

@pytest.mark.parametrize('op', [lambda x, w: x @ w, lambda x, w: w @ x, lambda x, w: linear(x, w), lambda x, w: linear(w, x),
                                lambda x, w: x / w, lambda x, w: w / x, lambda x, w: w * x, lambda x, w: w.log(),
                                lambda x, w: w ** 2, lambda x, w: w.amax(dim=0), lambda x, w: maximum(x, w),
                                lambda x, w: w.clip(0, 1.5), lambda x, w: x ** w, lambda x, w: w ** x])
def test_version_check_in_each_op_that_saves_inputs(op):
    x, w = Tensor(np.full((2, 2), 1.5)), Tensor(np.full((2, 2), 0.5), requires_grad=True)
    y = op(x, w).sum()
    with no_grad(): w.reshape(4)[0] = 9.0        # an update through a view: the counter is shared
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()

@pytest.mark.parametrize('fn', [lambda t: t.exp(), lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: t.relu(),
                                lambda t: t.softmax(dim=0), lambda t: t.log_softmax(dim=0)])
def test_ops_that_save_their_output_check_it(fn):
    w = Tensor([0.5, 1.0], requires_grad=True)
    y = fn(w)
    s = y.sum()
    with no_grad(): y += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        s.backward()

def test_in_place_rules():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\+=: in-place change"):
        w += 1
    with pytest.raises(RuntimeError, match="item assignment"):
        w[0] = 3.0
    x = Tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="requires grad"):
        x += w
    with no_grad():
        w -= 0.5
        w[1] = 0.0
    np.testing.assert_array_equal(w.data, [0.5, 0.0])
    assert w._version == 2
    with pytest.raises(ValueError, match=r"\+=: cannot write"):
        x += np.ones(3)

def test_no_false_alarm_after_recompute():
    w = Tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with no_grad(): w -= 0.1 * w.grad
        w.grad = None

# ---------------------------------------------------------------- errors
def test_error_messages():
    A, B = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(4, 5\): the left operand has 3 columns but the right one has 4 rows"):
        A @ B
    with pytest.raises(ValueError, match=r"matmul: cannot multiply shapes \(2, 2, 3\) and \(3, 3, 4\): the batch dimensions"):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 4)))
    with pytest.raises(ValueError, match="both operands need at least one dimension"):
        Tensor(1.0) @ A
    for op, name in [(lambda a, b: a + b, 'add'), (lambda a, b: a - b, 'sub'), (lambda a, b: a * b, 'mul'),
                     (lambda a, b: a / b, 'div'), (lambda a, b: a ** b, 'pow'), (maximum, 'maximum')]:
        with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4, 5\) cannot be broadcast"):
            op(A, B)
    with pytest.raises(ValueError, match=r"where: shapes"):
        where(np.ones(3, bool), A, B)
    with pytest.raises(ValueError, match=r"gradient can only be left out .* shape \(2, 3\)"):
        Tensor(np.ones((2, 3)), requires_grad=True).exp().backward()
    with pytest.raises(ValueError, match="does not require grad"):
        (A * 2).sum().backward()
    with pytest.raises(ValueError, match=r"sum: dim 3 is out of range"):
        A.sum(dim=3)
    with pytest.raises(TypeError, match="dim must be an int"):
        A.mean(dim='x')
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) does not fit weight of shape \(4, 5\)"):
        linear(A, B)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        A.reshape(5)
    with pytest.raises(IndexError, match=r"indexing a tensor of shape \(2, 3\)"):
        A[7]
    with pytest.raises(TypeError, match="cat: expected a sequence of Tensors"):
        cat([A, np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"stack: cannot stack shapes"):
        stack([A, B])
    with pytest.raises(TypeError):
        A + 'x'
    with pytest.raises(TypeError, match="Tensor\\(\\): cannot make a numeric array from list"):
        Tensor([Value(1.0)])
    with pytest.raises(ValueError, match="clip: give at least one"):
        A.clip()

def test_anomaly_mode():
    with autograd.detect_anomaly(), np.errstate(all='ignore'):
        with pytest.raises(FloatingPointError, match="'log' produced nan or inf"):
            Tensor([0.0, 1.0], requires_grad=True).log()
        x = Tensor([0.0, 1.0], requires_grad=True)
        y = (x ** 0.5).sum()
        with pytest.raises(FloatingPointError, match="non-finite gradient"):
            y.backward()

# ---------------------------------------------------------------- the two engines, memory, depth
def test_values_and_tensors_agree():
    r = np.random.default_rng(3)
    X, W1, b1, W2 = r.standard_normal((4, 3)), r.standard_normal((5, 3)), r.standard_normal(5), r.standard_normal((1, 5))
    Wv1 = [[Value(w) for w in row] for row in W1]; bv1 = [Value(b) for b in b1]; Wv2 = [Value(w) for w in W2[0]]
    loss_v = 0
    for x in X:
        h = [dot(row, list(x), b).tanh() for row, b in zip(Wv1, bv1)]
        loss_v = loss_v + (dot(Wv2, h).sigmoid() - 0.5) ** 2
    loss_v.backward()
    Wt1, bt1, Wt2 = Tensor(W1, requires_grad=True), Tensor(b1, requires_grad=True), Tensor(W2, requires_grad=True)
    loss_t = ((linear(linear(Tensor(X), Wt1, bt1).tanh(), Wt2).sigmoid() - 0.5) ** 2).sum()
    loss_t.backward()
    np.testing.assert_allclose(loss_t.item(), loss_v.data, rtol=1e-13)
    np.testing.assert_allclose(Wt1.grad, [[w.grad for w in row] for row in Wv1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bt1.grad, [b.grad for b in bv1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(Wt2.grad[0], [w.grad for w in Wv2], rtol=1e-12, atol=1e-15)

def test_no_garbage_after_a_training_step():
    r = np.random.default_rng(0)
    W, b = Tensor(r.standard_normal((3, 2)).astype(np.float32), requires_grad=True), Tensor(np.zeros(3, np.float32), requires_grad=True)
    def step():
        nonlocal W, b
        X, t = Tensor(r.standard_normal((16, 2))), r.integers(0, 3, 16)
        logits = linear(X, W, b).relu()
        loss = -logits.log_softmax(dim=1)[np.arange(16), t].mean() + (W ** 2).sum() * 1e-3
        loss.backward()
        with no_grad():
            W -= 0.1 * W.grad; b -= 0.1 * b.grad
        W.grad = b.grad = None
    assert cyclic_garbage(step, Tensor) == []

def test_deep_chain_under_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(50_000): y = -y
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1])
    del y   # a 50,000-deep graph frees without recursion errors

def test_gradcheck_uses_float64_tensors():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    assert gradcheck(lambda t: (t.tanh() * t.exp()).sum(), x)
    assert x.grad is None   # left as found

# ---------------------------------------------------------------- the fast paths (speed work) keep their promises
def test_shared_weight_accumulates_both_uses_in_float32():
    r = np.random.default_rng(5)
    X, W0, b0 = r.standard_normal((4, 3)), r.standard_normal((3, 3)), r.standard_normal(3)
    W, b = Tensor(W0.astype(np.float32), requires_grad=True), Tensor(b0.astype(np.float32), requires_grad=True)
    linear(linear(Tensor(X.astype(np.float32)), W, b).relu(), W, b).sum().backward()   # W and b used twice
    tW, tb = torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    F = torch.nn.functional
    F.linear(F.linear(torch.tensor(X), tW, tb).relu(), tW, tb).sum().backward()
    assert W.grad.dtype == np.float32 and b.grad.dtype == np.float32
    np.testing.assert_allclose(W.grad, tW.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-5, atol=1e-5)

def test_owned_gradient_of_another_dtype_is_cast_to_the_leaf():
    W = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    linear(Tensor(np.ones((4, 3))), W).sum().backward()     # float64 input: the gradient arrives as float64
    assert W.grad.dtype == np.float32 and W.grad.flags.writeable
    np.testing.assert_array_equal(W.grad, np.full((2, 3), 4.0))

def test_leaf_gradient_is_a_copy_when_the_op_does_not_own_it():
    a = Tensor([1.0, 2.0], requires_grad=True)
    g = np.array([5.0, 6.0], dtype=np.float32)
    (a * 1.0).backward(g)
    g[:] = 0                                             # the caller's array is not the leaf's gradient
    np.testing.assert_array_equal(a.grad, [5, 6])

@pytest.mark.parametrize('shape', [(), (1,), (1, 1)])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_implicit_seed_has_the_loss_shape_and_dtype(shape, dtype):
    x = Tensor(np.full(shape, 3.0, dtype=dtype), requires_grad=True)
    (x * x).backward()
    assert x.grad.shape == shape and x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad, np.full(shape, 6.0))

@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64])
def test_relu_keeps_the_dtype(dtype):
    x = Tensor(np.array([-1.0, 0.0, 2.0], dtype=dtype), requires_grad=True)
    y = x.relu()
    assert y.dtype == dtype
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 1])

@needs_torch
@pytest.mark.parametrize('opt', ['SGD', 'Adam'])
def test_speed_benchmark_engines_compute_the_same_training(opt):
    "benchmarks/tensor_speed.py compares like with like: the three engines follow the same losses step by step."
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent.parent / 'benchmarks'))
    try: import tensor_speed as ts
    finally: sys.path.pop(0)
    X, y, _ = ts.digits()
    bs = ts.batches(X, y, 32)[:8]
    runs = {name: mk([64, 128, 64, 10], opt) for name, mk in
            (('ours', ts.make_ours), ('numpy', ts.make_numpy), ('torch', ts.make_torch))}
    losses = {name: [run([b]) for b in bs] for name, run in runs.items()}
    np.testing.assert_allclose(losses['ours'], losses['numpy'], rtol=1e-4)
    np.testing.assert_allclose(losses['ours'], losses['torch'], rtol=1e-4)
    assert losses['ours'][-1] != losses['ours'][0]       # it trained

# ---------------------------------------------------------------- the node protocol and replaying the forward pass
def test_tensor_satisfies_the_node_protocol():
    "autograd.Node is not written yet on this branch (the autograd helper adds it): the attributes are tested directly."
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    for node in (x, y):
        for name in ('_parents', '_backward', '_forward', 'grad', '_zero_grad', '_accumulate', 'data'):
            assert hasattr(node, name), name
    assert x._parents == () and x._backward is None and x._forward is None
    assert callable(y._backward) and callable(y._forward) and isinstance(y._parents, tuple)
    if hasattr(autograd, 'Node') and getattr(autograd.Node, '_is_runtime_protocol', False):
        assert isinstance(x, autograd.Node) and isinstance(y, autograd.Node)

GRAPH_OPS = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / (b * b + 1),
             lambda a, b: (a.exp() + b * b).log(), lambda a, b: maximum(a, b).relu(), lambda a, b: where(MASK, a, b),
             lambda a, b: a.tanh() @ b.T, lambda a, b: linear(a, b, b[0]), lambda a, b: (a ** 2).clip(0.1, 2.0) + b.sigmoid(),
             lambda a, b: a.softmax(dim=1) * b.log_softmax(dim=0), lambda a, b: cat([a, b], dim=0)[1:4],
             lambda a, b: stack([a, b]).sum(dim=0), lambda a, b: a.amax(dim=1, keepdim=True) + b.mean(dim=0),
             lambda a, b: a.max(dim=0).values + b.reshape(3, 3).T[0], lambda a, b: a[[0, 2, 2]] * b, lambda a, b: (a * a + 0.5) ** b.sigmoid()]
MASK = np.array([[True, False, True]] * 3)   # a constant condition (a condition computed from data is not replayed)

@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.integers(0, len(GRAPH_OPS) - 1), min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_forward_pass_replays_a_tensor_graph(ops, seed):
    "Change the leaves in place, replay: equal to a rebuild to 1e-12 (float64), and backward after replay equals a fresh one."
    r = np.random.default_rng(seed)
    a, b = (Tensor(r.standard_normal((3, 3)), requires_grad=True) for _ in range(2))
    def build():
        x = a
        for i in ops: x = GRAPH_OPS[i](x, b) if x.shape == (3, 3) else GRAPH_OPS[i](x.reshape(-1)[:9].reshape(3, 3) if x.numel() >= 9 else a, b)
        return (x * x).sum()
    loss = build()
    with no_grad():
        a += Tensor(r.standard_normal((3, 3)) * 0.3)
        b[...] = r.standard_normal((3, 3))
    replayed = autograd.forward_pass(loss)
    fresh = build()
    np.testing.assert_allclose(replayed, fresh.data, rtol=1e-12, atol=1e-12)
    loss.backward(); g1 = (a.grad.copy(), b.grad.copy()); a.grad = b.grad = None
    fresh.backward()
    np.testing.assert_allclose(g1[0], a.grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g1[1], b.grad, rtol=1e-12, atol=1e-12)

def test_forward_pass_refuses_a_graph_recorded_under_no_grad():
    a = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad(): y = (a * 2).sum()
    with pytest.raises(ValueError, match="no_grad"):
        autograd.forward_pass(y)

def test_replay_refreshes_the_saved_versions():
    "After a replay the graph is current again: a change before the replay does not make its backward stale."
    x, w = Tensor([1.0, 2.0]), Tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    x += 1
    autograd.forward_pass(y)
    y.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 3.0])

# ---------------------------------------------------------------- defects of issue 11
@pytest.mark.parametrize('ours,theirs', [
    (lambda x: x.relu() ** 0.5, lambda x: x.relu() ** 0.5),
    (lambda x: x.clip(min=0).log(), lambda x: x.clamp(min=0).log()),
    (lambda x: maximum(x, 0.0) ** 0.5, lambda x: torch.maximum(x, torch.tensor(0.0)) ** 0.5),
    (lambda x: maximum(Tensor(np.zeros(3)), x) ** 0.5, lambda x: torch.maximum(torch.zeros(3), x) ** 0.5),
    (lambda x: x.amax(dim=0, keepdim=True).log() * Tensor(np.ones(3)), lambda x: x.amax(dim=0, keepdim=True).log() * torch.ones(3)),
])
def test_D5_masks_select_so_upstream_inf_gives_zero_like_torch(ours, theirs):
    x, t = Tensor([-1.0, 0.0, 2.0], requires_grad=True, dtype=np.float64), torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    with np.errstate(divide='ignore', invalid='ignore'): ours(x).sum().backward()
    theirs(t).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)   # inf where torch has inf, 0 where it has 0
    assert not np.isnan(x.grad).any()

def test_D6_boolean_masks_of_the_wrong_shape_raise_index_error():
    t = Tensor(np.zeros((3, 3)))
    with pytest.raises(IndexError, match="boolean index did not match"):
        t[np.ones((2, 2), bool)]
    with pytest.raises(IndexError, match="boolean index did not match"):
        t[np.ones((2, 2), bool)] = 1.0
    assert t._version == 0 and not t.data.any()               # a failure leaves the tensor as it was
    assert t[np.eye(3, dtype=bool)].shape == (3,)             # a mask of the right shape still works

@pytest.mark.parametrize('bad', ['3', b'12', None, np.array([1.0, None], dtype=object), np.array([1 + 2j]), 1 + 2j, [1, None]])
def test_D7_only_real_numbers_make_a_tensor(bad):
    with pytest.raises(TypeError, match="Tensor\\(\\): cannot make a numeric array"):
        Tensor(bad)

@pytest.mark.parametrize('make', [zeros, ones])
@pytest.mark.parametrize('dtype', [np.int64, np.int32, bool, np.float64, np.float32])
def test_D8_zeros_and_ones_honour_the_dtype(make, dtype):
    t = make(2, 3, dtype=dtype)
    assert t.dtype == np.dtype(dtype) and t.shape == (2, 3)
    assert make(2).dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        make(2, dtype=np.int64, requires_grad=True)
    with pytest.raises(TypeError, match=f"{make.__name__}: dtype must be a bool, int or float type, got complex64"):
        make(2, dtype=np.complex64)

def test_D20_empty_dimensions_give_empty_results_like_torch():
    for f, tf in ((softmax, torch.softmax), (log_softmax, torch.log_softmax)):
        x = Tensor(np.zeros((0, 3)), requires_grad=True)
        y = f(x, dim=0)
        assert y.shape == tuple(tf(torch.zeros(0, 3), dim=0).shape) == (0, 3)
        y.sum().backward()
        assert x.grad.shape == (0, 3)
    v, i = Tensor(np.zeros((0, 3))).max(dim=1)
    tv, ti = torch.zeros(0, 3).max(dim=1)
    assert v.shape == tuple(tv.shape) == (0,) and i.shape == tuple(ti.shape)
    with pytest.raises(ValueError, match="empty dimension"):
        Tensor(np.zeros((0, 3))).max(dim=0)                   # torch raises here too
    x, W = Tensor(np.zeros(0), requires_grad=True), Tensor(np.zeros((4, 0)), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)
    linear(x, W, b).sum().backward()
    tx, tW, tb = (torch.zeros(0, requires_grad=True), torch.zeros(4, 0, requires_grad=True), torch.ones(4, requires_grad=True))
    torch.nn.functional.linear(tx, tW, tb).sum().backward()
    assert x.grad.shape == (0,) and W.grad.shape == (4, 0)
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())

@pytest.mark.parametrize('dim', [0, 1, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_max_with_dim_returns_values_and_indices_like_torch(dim, keepdim):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 5.0]])
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (v, i), (tv, ti) = x.max(dim=dim, keepdim=keepdim), t.max(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(v.data, tv.detach().numpy())
    np.testing.assert_array_equal(i.data, ti.numpy())
    w = np.arange(1.0, 1.0 + v.numel()).reshape(v.shape)
    (v * w).sum().backward(); (tv * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())
    assert x.max().item() == 5.0 and x.max(dim=dim).values is not None

def test_tensor_nn_imports_no_private_names_and_versions_are_read_in_one_place():
    import inspect, backprop_nb.tensor_nn as tnn
    src = inspect.getsource(tnn)
    assert 'from .tensor import _' not in src and '_vc' not in src
    src = inspect.getsource(tt)
    assert src.count(': _stale(') == inspect.getsource(tt._check_saved).count(': _stale(') == 2   # the version check, in one place
    rest = src.replace(inspect.getsource(tt._make), '').replace(inspect.getsource(tt._check_saved), '')
    assert rest.count('._vc[0]') == 3   # elsewhere: the `_version` property and the two in-place bumps
    assert tt._backward_for.__code__.co_names.count('_stale') == 0   # every op's backward checks through _check_saved

def test_an_op_of_more_than_three_inputs_must_be_joint():
    with pytest.raises(ValueError, match="more than three inputs is joint=True"):
        tt.Op('f4', lambda a, b, c, d: a, *[lambda g, y, *args: g] * 4)
    assert tt.Op('f4', lambda *a: a[0], lambda g, y, *args: [g] * 4, joint=True).backward is tt._backward_joint

def test_draw_graph_draws_a_tensor_graph_one_box_per_array():
    from backprop_nb.autograd import draw_graph, topological_order
    W = Tensor(np.ones((2, 3)), requires_grad=True); W.label = 'W'
    loss = (linear(Tensor(np.ones((4, 3))), W).relu() - Tensor(np.zeros((4, 2)))).sum()
    loss.backward()
    boxes = [t.get_text() for t in draw_graph(loss).axes[0].texts if t.get_bbox_patch()]
    assert len(boxes) == len(topological_order(loss)) == 7
    assert sorted(b.split('\n')[0] for b in boxes) == ['(-)', '(linear)', '(relu)', '(sum)', 'W', 'constant', 'constant']
    assert 'data 24\n' in next(b for b in boxes if b.startswith('(sum)')) + '\n'   # a 0-d array shows its number

def test_replay_after_a_leaf_changes_shape_uses_the_new_shape_or_refuses():   # prober: silently wrong gradients
    x = Tensor(np.ones(2), requires_grad=True)
    m = x.mean()
    x.data = np.ones(4)
    autograd.forward_pass(m); m.backward()
    np.testing.assert_array_equal(x.grad, [0.25] * 4)            # was [.5 .5 .5 .5]: the count of the recording
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    s = (cat([a, b]) * Tensor(np.arange(5.0))).sum()
    a.data, b.data = np.ones(3), np.ones(2)
    autograd.forward_pass(s); s.backward()
    np.testing.assert_array_equal(a.grad, [0, 1, 2]); np.testing.assert_array_equal(b.grad, [3, 4])   # split at the new sizes
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * 2).sum()
    x.data = np.ones(3)
    with pytest.raises(ValueError, match=r"'\*' now gives shape \(3,\), recorded \(2,\): rebuild the graph"):
        autograd.forward_pass(y)

def test_forward_pass_refuses_a_graph_of_tensors_that_need_no_gradient():   # prober item 7: it returned the stale value
    a = Tensor([1.0, 2.0])
    y = (a * 2).sum()
    a.data = np.array([5.0, 5.0])
    with pytest.raises(ValueError, match="'sum' from inputs that need no gradient"):
        autograd.forward_pass(y)
    assert autograd.forward_pass(a) is a.data                     # a leaf is still its own replay

@pytest.mark.parametrize('op', [lambda t: t.exp(), lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: softmax(t, -1)])
def test_replay_makes_an_output_edited_in_place_current_again(op):   # prober item 7
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = op(x)
    with no_grad(): y += 1                                         # the backward of y reads y: now stale ...
    loss = (y * Tensor([1.0, 2.0, 3.0])).sum()
    with pytest.raises(RuntimeError, match="modified in place"): loss.backward()
    x.grad = None
    autograd.forward_pass(loss)                                    # ... until the replay recomputes it
    loss.backward()
    fresh = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    (op(fresh) * Tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad, fresh.grad, rtol=1e-12, atol=0)   # the gradient of the graph as rebuilt
