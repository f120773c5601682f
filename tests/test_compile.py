"""Compiled replay (`backprop_nb.compile`) against the eager engines: random scalar and tensor graphs,
micrograd's demo, a digits MLP, the refusals, and memory over 1,000 replayed steps."""
import random, re, tracemalloc
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from backprop_nb.autograd import Value, dot, sum_values, no_grad, topological_order
from backprop_nb.compile import compile_graph, CompiledScalarGraph, CompiledTensorGraph
from backprop_nb.tensor import Tensor
from test_autograd import exprs, evaluate, REPLAY_BINARY, floats

# --- scalar graphs ------------------------------------------------------------------------------
def build(trees, xs):
    "Several random expressions over the same inputs, summed: levels with many nodes, shared parents."
    outs = [evaluate(t, xs, REPLAY_BINARY) for t in trees]
    return sum_values([o * (i + 1.0) for i, o in enumerate(outs)], 0.5)

def close(a, b):   # 1e-12, relative to the size of the numbers
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b)) or (a != a and b != b)

@settings(max_examples=120, deadline=None)
@given(trees=st.lists(exprs(3, REPLAY_BINARY), min_size=1, max_size=4),
       before=st.tuples(floats, floats, floats), after=st.tuples(floats, floats, floats))
def test_scalar_replay_equals_rebuilding(trees, before, after):
    xs = [Value(v) for v in before]
    out = build(trees, xs)
    cg = compile_graph(out)
    for x, v in zip(xs, after): x.data = v
    fresh_xs = [Value(v) for v in after]
    fresh = build(trees, fresh_xs)
    assert close(cg.forward(), fresh.data) and out.data == cg.forward()
    for a, b in zip(topological_order(out), topological_order(fresh)):   # every node, not only the output
        assert close(cg.value(a), b.data)
    for x in xs: x.grad = 0.25                       # gradients accumulate onto what the leaves hold
    cg.backward()
    fresh.backward()
    for x, f in zip(xs, fresh_xs):
        assert close(x.grad - 0.25, f.grad), (x.grad, f.grad)

@settings(max_examples=40, deadline=None)
@given(nin=st.integers(1, 3), widths=st.lists(st.integers(1, 4), min_size=1, max_size=3), batch=st.integers(1, 5),
       seed=st.integers(0, 2**16), square=st.booleans())
def test_dot_groups_computed_as_matrix_products_equal_eager(nin, widths, batch, seed, square):
    "A scalar MLP on a batch: its dot groups become X @ W.T (checked), values and gradients as eager to 1e-12."
    from backprop_nb.nn import MLP
    random.seed(seed)
    model = MLP(nin, widths)
    X = np.random.default_rng(seed).uniform(-2, 2, (batch, nin))
    xs = [[Value(v) for v in row] for row in X]
    if square: xs = [row + row for row in xs]; model = MLP(2 * nin, widths)   # every input read twice by each neuron
    outs = [model(row) for row in xs]
    flat = [o for out in outs for o in (out if isinstance(out, list) else [out])]
    out = sum_values([o * o for o in flat])
    cg = compile_graph(out)
    if batch * widths[0] > 1: assert any(g.note.startswith('X ') for g in cg.groups)
    assert close(cg.forward(), out.data)
    cg.backward()
    compiled = [p.grad for p in model.parameters()] + [v.grad for row in xs for v in row]
    for v in model.parameters() + [v for row in xs for v in row]: v.grad = 0.0
    out.backward()
    eager = [p.grad for p in model.parameters()] + [v.grad for row in xs for v in row]
    assert all(close(a, b) for a, b in zip(compiled, eager))

def test_registering_the_matmul_pass_again_keeps_one():
    "Running the cell that registers `_dot_as_matmul` again (a new function of the same name) leaves one pass, and compiling still works."
    import types
    from backprop_nb import compile as C
    from backprop_nb.nn import MLP
    saved = list(C._GROUP_PASSES)
    try:
        again = types.FunctionType(C._dot_as_matmul.__code__, C._dot_as_matmul.__globals__, '_dot_as_matmul')   # as a re-run cell makes it
        C._add_pass(C._dot_as_matmul); C._add_pass(again)
        assert C._GROUP_PASSES == [again]
        random.seed(0)
        model = MLP(2, [3, 1])
        out = sum_values([model([Value(a), Value(b)]) for a, b in ((0.5, -1.0), (2.0, 0.25))])
        cg = compile_graph(out)
        assert [g.note for g in cg.groups if g.name == 'dot'] == ['X 2x2 @ W.T, W 3x2', 'X 2x3 @ W.T, W 1x3']
        assert close(cg.forward(), out.data)
    finally:
        C._GROUP_PASSES[:] = saved

def test_scalar_backward_twice_doubles_the_leaves_and_takes_a_seed():
    a, b = Value(1.5), Value(-2.0)
    cg = compile_graph((a * b + a.tanh()) ** 2)
    cg.forward(); cg.backward()
    once = a.grad
    cg.backward()
    assert a.grad == 2 * once
    a.grad = b.grad = 0.0
    cg.backward(3.0)
    assert abs(a.grad - 3 * once) <= 1e-12 * abs(once)
    with pytest.raises(TypeError, match="gradient must be a number"): cg.backward('1')

def test_scalar_summary_names_levels_and_ops():
    x = [Value(float(i)) for i in range(4)]
    cg = compile_graph(sum_values([(v * 2.0).relu() for v in x]))
    assert isinstance(cg, CompiledScalarGraph)
    text = cg.summary()
    assert text.splitlines()[0] == "17 nodes (8 leaves) in 3 groups over 4 levels"   # 4 inputs, 4 constants 2.0, 9 results
    assert [line.split()[:3] for line in text.splitlines()[2:]] == [['1', '*', '4'], ['2', 'relu', '4'], ['3', 'sum', '1']]
    assert repr(cg).startswith("CompiledScalarGraph(17 nodes")

def _demo(steps, compiled):
    "micrograd's demo (moons, MLP(2, [16, 16, 1]), hinge + L2, lr 1 - 0.9 k / 100): the losses, and every gradient."
    from backprop_nb.nn import MLP
    from backprop_nb.losses import hinge_loss
    from backprop_nb.optim import SGD
    from backprop_nb.data import make_moons
    X, y = make_moons(100, noise=0.1, seed=0)
    random.seed(1337)
    model = MLP(2, [16, 16, 1]); params = model.parameters()
    opt = SGD(params, lr=1.0)
    make = lambda: hinge_loss(model.forward_batch(X.tolist()), y * 2 - 1) + 1e-4 * dot(params, params)
    cg = compile_graph(make()) if compiled else None
    losses, grads = [], []
    for k in range(steps):
        if compiled: losses.append(cg.forward()); model.zero_grad(); cg.backward()
        else: loss = make(); losses.append(loss.data); model.zero_grad(); loss.backward()
        grads.append([p.grad for p in params])
        opt.lr = 1.0 - 0.9 * k / 100; opt.step()
    return np.array(losses), np.array(grads)

def test_micrograd_demo_compiled_equals_eager_at_every_step():
    (le, ge), (lc, gc_) = _demo(100, False), _demo(100, True)
    assert np.abs(lc - le).max() <= 1e-12 * np.abs(le).max()          # the loss curve
    assert np.abs(gc_ - ge).max() <= 1e-12 * np.abs(ge).max()         # and every gradient of every step
    assert lc[-1] < 0.5 * lc[0]                                        # it trained

# --- tensor graphs ------------------------------------------------------------------------------
T_UNARY = {'relu': lambda a: a.relu(), 'tanh': lambda a: a.tanh(), 'sigmoid': lambda a: a.sigmoid(),
           'exp': lambda a: a.tanh().exp(), 'neg': lambda a: -a, 'square': lambda a: a ** 2,
           'log': lambda a: (a * a + 0.5).log(), 'softmax': lambda a: a.softmax(-1), 'T2': lambda a: a.T.T * 1.5}
T_BINARY = {'add': lambda a, b: a + b, 'sub': lambda a, b: a - b, 'mul': lambda a, b: a * b,
            'div': lambda a, b: a / (b * b + 1.0), 'bias': lambda a, b: a + b.sum(0),
            'linear': lambda a, b: (a @ b.T).tanh() @ b, 'max': lambda a, b: a.maximum(b)}

def texprs():
    leaf = st.integers(0, 2)
    return st.recursive(leaf, lambda kids: st.one_of(st.tuples(st.sampled_from(sorted(T_UNARY)), kids),
                                                     st.tuples(st.sampled_from(sorted(T_BINARY)), kids, kids)), max_leaves=6)

def tevaluate(tree, xs):
    if isinstance(tree, int): return xs[tree]
    if len(tree) == 2: return T_UNARY[tree[0]](tevaluate(tree[1], xs))
    return T_BINARY[tree[0]](tevaluate(tree[1], xs), tevaluate(tree[2], xs))

def tbuild(tree, xs, W):
    "A random expression of (4, 3) tensors, then a linear layer and a mean: a scalar to differentiate."
    from backprop_nb.tensor import linear
    return linear(tevaluate(tree, xs), W[0], W[1]).relu().mean() + (tevaluate(tree, xs) ** 2).sum()

arrays = st.lists(st.floats(-2, 2, allow_nan=False), min_size=12, max_size=12).map(lambda v: np.array(v).reshape(4, 3))

@settings(max_examples=80, deadline=None)
@given(tree=texprs(), before=st.tuples(arrays, arrays, arrays), after=st.tuples(arrays, arrays, arrays))
def test_tensor_replay_equals_rebuilding(tree, before, after):
    r = np.random.default_rng(0)
    Wb = [r.standard_normal((5, 3)), r.standard_normal(5)]
    W = [Tensor(a.copy(), requires_grad=True, dtype=np.float64) for a in Wb]
    xs = [Tensor(a.copy(), requires_grad=True, dtype=np.float64) for a in before]
    cg = compile_graph(tbuild(tree, xs, W))
    for x, a in zip(xs, after): x.data = a.copy()
    fresh_xs = [Tensor(a.copy(), requires_grad=True, dtype=np.float64) for a in after]
    fresh_W = [Tensor(a.copy(), requires_grad=True, dtype=np.float64) for a in Wb]
    fresh = tbuild(tree, fresh_xs, fresh_W)
    out = cg.forward()
    scale = max(1.0, abs(float(fresh.data)))
    assert abs(float(out) - float(fresh.data)) <= 1e-12 * scale
    cg.backward(); fresh.backward()
    for a, b in zip(xs + W, fresh_xs + fresh_W):
        if b.grad is None: assert a.grad is None; continue
        assert a.grad.dtype == b.grad.dtype and a.grad.shape == b.grad.shape
        assert np.abs(a.grad - b.grad).max() <= 1e-12 * max(1.0, np.abs(b.grad).max())

def _digits_net(seed=0):
    from backprop_nb.tensor_nn import MLP
    from backprop_nb.nn import manual_seed
    from backprop_nb.optim import SGD
    manual_seed(seed)
    net = MLP(64, [128, 64, 10])
    return net, SGD(net.parameters(), lr=0.05)

def _batches(n, bs, seed=1):
    r = np.random.default_rng(seed)
    return [(r.random((bs, 64)).astype(np.float32), r.integers(0, 10, bs)) for _ in range(n)]

def test_digits_mlp_compiled_trains_as_eager_to_float32_rounding():
    from backprop_nb.tensor_nn import cross_entropy
    data = _batches(20, 32)
    (net_e, opt_e), (net_c, opt_c) = _digits_net(), _digits_net()
    x, labels = Tensor(data[0][0].copy()), data[0][1].astype(np.intp)
    cg = compile_graph(cross_entropy(net_c(x), labels))
    assert isinstance(cg, CompiledTensorGraph)
    assert cg.kinds == ['linear, out=', 'relu, in place', 'linear, out=', 'relu, in place', 'linear, out=', 'cross_entropy, its forward']
    for xb, yb in data:
        x.data = xb; labels[...] = yb
        lc = float(cg.forward()); opt_c.zero_grad(); cg.backward()
        le = cross_entropy(net_e(xb), yb); opt_e.zero_grad(); le.backward()
        assert abs(lc - le.item()) <= 8 * np.finfo(np.float32).eps * abs(le.item())   # a few float32 roundings
        for p, q in zip(net_c.parameters(), net_e.parameters()):
            assert p.grad.dtype == np.float32
            np.testing.assert_allclose(p.grad, q.grad, rtol=1e-4, atol=1e-6 * np.abs(q.grad).max())
        opt_c.step(); opt_e.step()

def test_tensor_gradients_accumulate_and_a_kept_gradient_is_not_overwritten():
    from backprop_nb.tensor_nn import cross_entropy
    (xb, yb), = _batches(1, 8)
    net, _ = _digits_net()
    cg = compile_graph(cross_entropy(net(Tensor(xb)), yb.astype(np.intp)))
    W = net.parameters()[0]
    cg.forward(); cg.backward()
    first = W.grad
    kept = first.copy()
    cg.backward()                                  # no zero_grad: adds, as backward() does
    np.testing.assert_allclose(W.grad, 2 * kept, rtol=1e-6)
    np.testing.assert_array_equal(first, kept)     # the array handed over first is left alone

# --- refusals -----------------------------------------------------------------------------------
def test_refusals_say_why():
    with no_grad(): v = Value(2.0) * 3
    with pytest.raises(ValueError, match="no_grad"): compile_graph(v)
    t = Tensor(np.ones(3), requires_grad=True)
    with no_grad(): u = (t * 2).sum()
    with pytest.raises(ValueError, match="no_grad"): compile_graph(u)
    with pytest.raises(ValueError, match="requires_grad=False"): compile_graph(Tensor(np.ones(3)) * 2)
    with pytest.raises(TypeError, match="Value or a Tensor"): compile_graph(np.ones(3))
    with pytest.raises(ValueError, match="boolean mask"): compile_graph(t[t.data > 0].sum())
    odd = Value(1.0) * 2
    odd._forward, odd._op = (lambda n: None), 'twice'
    with pytest.raises(ValueError, match="'twice'"): compile_graph(odd)

def test_changed_leaves_are_refused_and_nothing_changes():
    x = Tensor(np.ones((4, 3), np.float32), requires_grad=True)
    cg = compile_graph((x * 2).relu().sum())
    before = float(cg.forward())
    for bad, kind in ((np.ones((5, 3), np.float32), ValueError), (np.ones((4, 3), np.float64), ValueError), ([1.0], ValueError)):
        x.data = bad
        with pytest.raises(kind, match=r"leaf 0 was recorded with shape \(4, 3\) and dtype float32"): cg.forward()
    x.data = np.ones((4, 3), np.float32)
    assert float(cg.forward()) == before
    a = Value(1.0, label='a')
    cs = compile_graph(a * 2 + 1)
    a.data = np.ones(2)
    with pytest.raises(TypeError, match="leaf .* 'a' holds ndarray"): cs.forward()
    a.data = 4.0
    assert cs.forward() == 9.0

# --- memory -------------------------------------------------------------------------------------
def test_memory_is_flat_over_1000_replayed_steps():
    from backprop_nb.tensor_nn import cross_entropy
    data = _batches(10, 32)
    net, opt = _digits_net()
    x, labels = Tensor(data[0][0].copy()), data[0][1].astype(np.intp)
    cg = compile_graph(cross_entropy(net(x), labels))
    def step(k):
        xb, yb = data[k % len(data)]
        x.data = xb; labels[...] = yb
        cg.forward(); opt.zero_grad(); cg.backward(); opt.step()
    for k in range(10): step(k)
    tracemalloc.start()
    try:
        for k in range(100): step(k)
        at_100 = tracemalloc.get_traced_memory()[0]
        for k in range(900): step(k)
        at_1000 = tracemalloc.get_traced_memory()[0]
    finally: tracemalloc.stop()
    # Keeping anything per step, even one 0-d array (~100 bytes), would grow by 900 x 100 bytes; one
    # batch of inputs (8 KiB) is the tolerance: far below that, and above tracemalloc's own jitter.
    assert at_1000 - at_100 < data[0][0].nbytes, (at_100, at_1000)

@pytest.mark.filterwarnings("ignore:invalid value encountered")   # numpy warns, as in the eager engine
def test_detect_anomaly_names_the_op_in_a_replay():
    from backprop_nb.autograd import detect_anomaly
    a = Value(1.0)
    cs = compile_graph((a * 2.0).log() + 1.0)
    x = Tensor(np.ones(3), requires_grad=True, dtype=np.float64)
    ct = compile_graph(x.log().sum())
    a.data, x.data = -1.0, -np.ones(3)
    assert cs.forward() != cs.forward() and not np.isfinite(ct.forward())   # without the switch: nan, as eager
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="'log' node of level 2"): cs.forward()
        with pytest.raises(FloatingPointError, match="'log' produced nan"): ct.forward()

# --- a newcomer's read-through: compiling leaves the eager graph valid, stale arrays, new labels ----
def _ce_graph(bs=16, seed=2, labels_dtype=np.intp):
    from backprop_nb.tensor_nn import cross_entropy
    (xb, yb), = _batches(1, bs, seed)
    net, _ = _digits_net()
    x = Tensor(xb.copy())
    loss = cross_entropy(net(x), yb.astype(labels_dtype))
    return net, x, yb, loss

def _eager_grads(xb, yb):
    from backprop_nb.tensor_nn import cross_entropy
    net, _ = _digits_net()
    loss = cross_entropy(net(Tensor(xb)), yb); loss.backward()
    return loss.item(), [p.grad for p in net.parameters()]

def _assert_grads(params, ref):
    for p, q in zip(params, ref):
        np.testing.assert_allclose(p.grad, q, rtol=1e-4, atol=1e-6 * np.abs(q).max())

def test_backward_right_after_compiling_and_eager_backward_after_compiling_are_right():
    net, x, yb, loss = _ce_graph()
    value, ref = _eager_grads(x.data, yb)
    cg = compile_graph(loss)
    cg.backward()                                   # before any forward()
    _assert_grads(net.parameters(), ref)
    for p in net.parameters(): p.grad = None
    loss.backward()                                 # the eager graph, after compiling
    _assert_grads(net.parameters(), ref)
    relu = loss._parents[0]._parents[0]             # cross_entropy <- linear <- relu
    assert relu._op.name == 'relu' and (relu.data >= 0).all()
    assert abs(float(cg.forward()) - value) <= 1e-5 * abs(value)

def test_forward_pass_after_compiling_is_refused_not_a_frozen_replay():
    from backprop_nb.autograd import forward_pass
    net, x, yb, loss = _ce_graph()
    cg = compile_graph(loss)
    first = float(cg.forward())
    forward_pass(loss)                              # gives the nodes new arrays
    x.data = x.data * 0.5
    with pytest.raises(ValueError, match="compile the graph again"): cg.forward()
    with pytest.raises(ValueError, match="compile the graph again"): cg.backward()
    assert float(compile_graph(loss).forward()) != first

@pytest.mark.parametrize("kind", ['int32', 'list', 'tensor', 'float'])
def test_set_labels_feeds_new_labels_of_any_kind_eager_accepts(kind):
    net, x, yb, loss = _ce_graph()
    cg = compile_graph(loss)
    new = (yb + 3) % 10
    fed = {'int32': new.astype(np.int32), 'list': new.tolist(), 'tensor': Tensor(new), 'float': new.astype(np.float64)}[kind]
    cg.set_labels(fed)
    value, ref = _eager_grads(x.data, new)
    assert abs(float(cg.forward()) - value) <= 1e-5 * abs(value)
    cg.backward()
    _assert_grads(net.parameters(), ref)

def test_set_labels_refuses_bad_labels_and_leaves_the_old_ones():
    net, x, yb, loss = _ce_graph()
    cg = compile_graph(loss)
    before = float(cg.forward())
    for bad, kind, msg in ((np.full(16, 10), ValueError, r"0\.\.9"), (np.full(16, -1), ValueError, r"0\.\.9"),
                           (np.zeros(15, np.intp), ValueError, "16 examples"), (np.full(16, 0.5), TypeError, "integer")):
        with pytest.raises(kind, match=msg): cg.set_labels(bad)
    assert float(cg.forward()) == before
    with pytest.raises(ValueError, match="no cross_entropy"): compile_graph((net(x) * 2).sum()).set_labels(yb)

def test_labels_written_out_of_range_in_place_are_refused_not_a_loss():
    net, x, yb, loss = _ce_graph()
    labels = loss._ctx[0]
    cg = compile_graph(loss)
    labels[0] = -1
    with pytest.raises(ValueError, match=r"0\.\.9"): cg.forward()
    labels[0] = 10
    with pytest.raises(ValueError, match=r"0\.\.9"): cg.forward()

def test_an_index_by_an_integer_array_is_refused_unless_declared_constant():
    x = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True, dtype=np.float64)
    picked = x[np.nonzero(x.data[:, 0] > 4)[0]].sum()                       # rows chosen by the data
    with pytest.raises(ValueError, match="integer array .* constant_indices=True"): compile_graph(picked)
    best = x[np.arange(4), x.data.argmax(1)].sum()                           # an argmax pick
    with pytest.raises(ValueError, match=r"'index' by an integer array \(input shape \(4, 3\)"): compile_graph(best)
    rows = np.array([0, 2])                                                  # a gather that is the same for any data
    cg = compile_graph(x[rows].sum(), constant_indices=True)
    x.data = x.data * 2
    assert float(cg.forward()) == x.data[rows].sum()
    with pytest.raises(TypeError, match="constant_indices"): compile_graph(x[rows].sum(), constant_indices=1)

def test_forward_returns_a_copy_that_the_next_replay_leaves_alone():
    from backprop_nb.tensor import linear
    x = Tensor(np.ones((2, 3)), requires_grad=True, dtype=np.float64)
    W = Tensor(np.ones((4, 3)), requires_grad=True, dtype=np.float64)
    cg = compile_graph(linear(x, W))
    assert cg.kinds == ['linear, out=']
    outs = []
    for k in range(3):
        x.data = np.full((2, 3), float(k)); outs.append(cg.forward())
    assert [float(o[0, 0]) for o in outs] == [0.0, 3.0, 6.0]

def test_summary_counts_inputs_in_words_that_agree():
    a = Value(0.5)
    s = compile_graph((a * 2).relu() + a).summary()
    assert "  1 input" in s and "1 inputs" not in s and "2 inputs" in s and "slot" not in s

# --- the generated program ----------------------------------------------------------------------
def test_the_replay_is_straight_line_source_without_loops_or_lookups():
    net, x, yb, loss = _ce_graph()
    cg = compile_graph(loss)
    fwd, bwd = cg.source.split('def backward')
    assert 'def forward():' in fwd and 'for ' not in cg.source and 'grads[' not in cg.source   # one line per operation
    products = lambda src: len(re.findall(r'(?<![.\w])dot\(', src))
    assert products(fwd) == 3 and products(bwd) == 8                                           # 3 products forward, 8 backward
    assert "relu" in fwd and 'maximum(0.0, y' in fwd and 'out=' in bwd

@pytest.mark.parametrize("shape,reduction,dtype", [((32, 10), 'mean', np.float32), ((5, 40), 'sum', np.float64),
                                                   ((9, 3), 'mean', np.float64), ((1, 2), 'sum', np.float32)])
def test_compiled_cross_entropy_equals_eager_bit_for_bit(shape, reduction, dtype):
    from backprop_nb.tensor_nn import cross_entropy
    r = np.random.default_rng(3)
    z = Tensor(r.standard_normal(shape).astype(dtype) * 3, requires_grad=True)
    t = r.integers(0, shape[1], shape[0]).astype(np.intp)
    cg = compile_graph(cross_entropy(z, t, reduction=reduction))
    assert cg.kinds == ['cross_entropy, its forward']
    for _ in range(3):
        z.data, z.grad = r.standard_normal(shape).astype(dtype) * 3, None
        t[...] = r.integers(0, shape[1], shape[0])
        out = cg.forward(); cg.backward()
        ref = Tensor(z.data.copy(), requires_grad=True)
        le = cross_entropy(ref, t.copy(), reduction=reduction); le.backward()
        assert out.dtype == le.data.dtype and out == le.data
        assert z.grad.dtype == ref.grad.dtype and np.array_equal(z.grad, ref.grad)

@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("in_place", [True, False])
def test_an_infinite_gradient_at_a_switched_off_relu_gives_0_in_the_replay(in_place):
    from backprop_nb.tensor import linear
    def graph():   # a ReLU in place after a linear, or into its own array after a product; an infinite gradient reaches it
        x = Tensor(np.array([[1.0, -2.0], [3.0, 1.0]]), requires_grad=True, dtype=np.float64)
        W1, W2 = [Tensor(w, requires_grad=True, dtype=np.float64) for w in (np.eye(2), np.ones((2, 2)))]
        h = linear(x, W1) if in_place else x * 1.0
        return x, W1, (linear(h.relu(), W2) * np.array([[np.inf, 1.0], [1.0, 1.0]])).sum()
    x, W1, loss = graph()
    cg = compile_graph(loss)
    assert cg.kinds[1] == ('relu, in place' if in_place else 'relu, out=')
    cg.forward(); cg.backward()
    xe, W1e, le = graph(); le.backward()
    np.testing.assert_array_equal(x.grad, xe.grad)       # inf and nan where eager has them, nowhere else
    np.testing.assert_array_equal(W1.grad, W1e.grad)
    # the ReLU's gradient is [[inf, 0], [2, 2]]: its switched-off entry 0, not inf x 0 = nan
    if in_place: np.testing.assert_array_equal(W1.grad[1], [6.0, 2.0])
    else: assert x.grad[0, 1] == 0

def test_a_leaf_as_output_and_a_given_gradient():
    x = Tensor(np.arange(3.0), requires_grad=True, dtype=np.float64)
    cg = compile_graph(x)
    np.testing.assert_array_equal(cg.forward(), x.data)
    with pytest.raises(ValueError, match="one element"): cg.backward()
    cg.backward(np.full(3, 2.0))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    y = Tensor(np.arange(3.0), requires_grad=True, dtype=np.float64)
    cs = compile_graph((y * y).sum())
    cs.forward(); cs.backward(Tensor(np.array(3.0)))
    np.testing.assert_array_equal(y.grad, 6 * y.data)
