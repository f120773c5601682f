"""Property and edge-case tests of the scalar engine, with PyTorch as the reference."""
import gc, math, sys, tracemalloc
import pytest
from hypothesis import given, settings, strategies as st
from gc_check import cyclic_garbage

from backprop_nb.autograd import (Value, gradcheck, numerical_grad, no_grad, detect_anomaly, dot, sum_values,
                                  topological_order, draw_graph, to_dot)

# --- random expressions, evaluated the same way on Values and on torch tensors ----------------
# Each op keeps its inputs inside its smooth domain, so numerical differences are a fair referee.
UNARY = {
    'tanh': lambda a: a.tanh(),
    'sigmoid': lambda a: a.sigmoid(),
    'exp': lambda a: (a * 0.3).tanh().exp(),        # bounded exponent
    'log': lambda a: (a * a + 0.5).log(),           # positive argument
    'neg': lambda a: -a,
    'square': lambda a: a ** 2,
    'cube': lambda a: a ** 3,
    'sqrt': lambda a: (a * a + 1.0) ** 0.5,
    'rscale': lambda a: 2.5 * a,
    'rsub': lambda a: 1.0 - a,
    'rdiv': lambda a: 1.0 / (a * a + 1.0),
}
BINARY = {
    'add': lambda a, b: a + b,
    'sub': lambda a, b: a - b,
    'mul': lambda a, b: a * b,
    'div': lambda a, b: a / (b * b + 1.0),
    'vpow': lambda a, b: (a * a + 0.5) ** b.tanh(),  # Value exponent
}

def exprs(n_vars):
    leaf = st.integers(0, n_vars - 1)
    return st.recursive(leaf, lambda kids: st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), kids),
        st.tuples(st.sampled_from(sorted(BINARY)), kids, kids)), max_leaves=8)

def evaluate(tree, xs):
    if isinstance(tree, int): return xs[tree]
    if len(tree) == 2: return UNARY[tree[0]](evaluate(tree[1], xs))
    return BINARY[tree[0]](evaluate(tree[1], xs), evaluate(tree[2], xs))

floats = st.floats(-2.0, 2.0, allow_nan=False)

@settings(max_examples=150, deadline=None)
@given(tree=exprs(3), values=st.tuples(floats, floats, floats))
def test_random_expressions_match_numerical_gradients(tree, values):
    xs = [Value(v) for v in values]
    out = evaluate(tree, xs)
    if not isinstance(out, Value): out = out + 0.0   # a bare leaf
    out.backward()
    numeric = numerical_grad(lambda *v: evaluate(tree, list(v)) + 0.0 if False else _plain(tree, v), *values)
    for x, n in zip(xs, numeric):
        assert x.grad == pytest.approx(n, rel=1e-4, abs=1e-5)

def _plain(tree, v):  # the same expression on plain Values, returning a float
    out = evaluate(tree, [Value(a) for a in v])
    return out.data

torch = pytest.importorskip("torch")

@settings(max_examples=150, deadline=None)
@given(tree=exprs(3), values=st.tuples(floats, floats, floats))
def test_random_expressions_match_torch(tree, values):
    xs = [Value(v) for v in values]
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out, tout = evaluate(tree, xs), evaluate(tree, ts)
    if not isinstance(out, Value): return     # a bare leaf: nothing to differentiate
    out.backward(); tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12)
    for x, t in zip(xs, ts):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert x.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)

@pytest.mark.parametrize("op", ['relu', 'tanh', 'sigmoid', 'exp', 'log'])
@pytest.mark.parametrize("x", [-1000.0, -3.0, -0.5, 0.0, 0.5, 3.0, 1000.0])
def test_unary_ops_follow_torch_everywhere(op, x):
    """Values and gradients at extreme inputs, nan and inf included, are PyTorch's."""
    v, t = Value(x), torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out, tout = getattr(v, op)(), getattr(t, op)()
    out.backward(); tout.backward()
    for ours, theirs in ((out.data, tout.item()), (v.grad, t.grad.item())):
        if math.isnan(theirs): assert math.isnan(ours)
        else: assert ours == pytest.approx(theirs, rel=1e-12, abs=0)

@pytest.mark.parametrize("a,b", [(1.0, 0.0), (-1.0, 0.0), (0.0, 0.0), (-8.0, 0.5), (0.0, -1.0), (10.0, 400.0)])
def test_division_and_power_edge_cases_follow_ieee(a, b):
    ta, tb = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    for ours, theirs in (((Value(a) / b).data, (ta / tb).item()), ((Value(a) ** b).data, (ta ** tb).item())):
        if math.isnan(theirs): assert math.isnan(ours)
        else: assert ours == theirs

# --- semantics -------------------------------------------------------------------------------
def test_backward_twice_doubles_leaves_but_not_interior_nodes():
    x, y = Value(1.5), Value(-2.0)
    h = (x * y).tanh()
    z = h * x + y
    z.backward()
    first = (x.grad, y.grad, h.grad)
    z.backward()
    assert (x.grad, y.grad) == (2 * first[0], 2 * first[1])
    assert h.grad == first[2]

def test_shared_node_sums_its_paths():
    a = Value(-4.0)
    b = a + a
    c = b * b
    c.backward()
    assert a.grad == 8 * a.data

def test_million_node_chain_under_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(0.5)
    y = x
    for _ in range(1_000_000): y = -y
    y.backward()
    assert x.grad == 1.0
    del y   # freeing a million-deep chain must not overflow the C stack either

def test_no_value_garbage_after_a_training_step():
    w = [Value(0.01 * i) for i in range(20)]
    def step():
        loss = sum_values(((dot(w, [float(i + j) for j in range(20)], 0.1).relu() - 1.0) ** 2 for i in range(10)))
        loss.backward()
        for p in w: p.data -= 0.001 * p.grad; p.grad = 0.0
    assert cyclic_garbage(step, Value) == []

def test_graph_memory_is_released_by_refcounting():
    gc.disable()
    try:
        tracemalloc.start()
        x = Value(1.0)
        y = sum_values([(x * i).tanh() for i in range(20_000)])
        y.backward()
        held = tracemalloc.get_traced_memory()[0]
        del y
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    finally:
        gc.enable()
    assert after < held / 10   # freed without the cyclic collector's help

def test_fused_ops_match_their_unfused_forms_bit_for_bit():
    ws = [Value(0.1 * i - 0.3) for i in range(7)]
    xs = [Value(0.7 - 0.2 * i) for i in range(7)]
    b = Value(0.05)
    assert dot(ws, xs, b).data == sum((w * x for w, x in zip(ws, xs)), b).data
    assert sum_values(xs).data == sum(xs).data
    with pytest.raises(ValueError, match="dot: 2 weights but 3 inputs"): dot(ws[:2], xs[:3])

# --- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad,match", [("abc", "got str"), ([1, 2], "list of length 2"), (None, "got NoneType"),
                                        (Value(1.0), "got a Value"), ({"a": 1}, "dict")])
def test_value_rejects_non_numbers(bad, match):
    with pytest.raises(TypeError, match=match): Value(bad)

def test_operators_with_wrong_types_raise_type_error():
    for op in (lambda: Value(1.0) + "a", lambda: "a" * Value(2.0) + 1, lambda: Value(1.0) / [1], lambda: Value(1.0) ** "x"):
        with pytest.raises(TypeError): op()

def test_backward_on_a_no_grad_result_explains_itself():
    with no_grad(): y = Value(2.0).tanh()
    with pytest.raises(ValueError, match="no_grad"): y.backward()

def test_no_grad_as_decorator_restores_recording():
    @no_grad()
    def f(v): return v * 2
    assert f(Value(1.0))._parents == ()
    assert (Value(1.0) * 2)._parents != ()

def test_anomaly_mode_names_the_op_forward_and_backward():
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="'/' produced inf"): Value(1.0) / 0.0
        x = Value(0.0)
        y = (x * x) ** 0.5          # finite forward, infinite derivative at 0
        with pytest.raises(FloatingPointError, match=r"backward of '\*\*0.5'"): y.backward()

def test_gradcheck_reports_the_worst_mismatch():
    class Bad:  # a wrong backward rule: claims d(x**2)/dx = x
        def __init__(self, x): self.x, self.data = x, x.data ** 2
        def backward(self): self.x.grad += self.x.data
    res = gradcheck(lambda a, b: Bad(b), Value(1.0), Value(3.0), raise_exception=False)
    assert not res and res.input_index == 1
    assert res.analytic == pytest.approx(3.0) and res.numerical == pytest.approx(6.0)

def test_drawing_has_one_box_per_node_and_dot_one_edge_per_parent():
    a, b = Value(2.0, label='a'), Value(-3.0, label='b')
    out = (a * b).relu()
    out.backward()
    fig = draw_graph(out)
    assert len([t for t in fig.axes[0].texts if t.get_bbox_patch()]) == 4
    assert to_dot(out).count('->') == 3
    with pytest.raises(ValueError, match="max_nodes"): draw_graph(sum_values([Value(1.0)] * 3 + [a * i for i in range(200)]))
