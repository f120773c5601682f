"""Property and edge-case tests of the scalar engine, with PyTorch as the reference."""
import gc, math, sys, tracemalloc, warnings
import pytest
from hypothesis import given, settings, strategies as st
from gc_check import cyclic_garbage

from backprop_nb.autograd import (Value, gradcheck, numerical_grad, no_grad, detect_anomaly, dot, sum_values,
                                  topological_order, draw_graph, to_dot, forward_pass, flags, Node)

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

def exprs(n_vars, binary=None):
    "Random expression trees over `n_vars` inputs, with the unary ops and the binary ops of `binary` (default BINARY)."
    leaf = st.integers(0, n_vars - 1)
    return st.recursive(leaf, lambda kids: st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), kids),
        st.tuples(st.sampled_from(sorted(binary or BINARY)), kids, kids)), max_leaves=8)

def evaluate(tree, xs, binary=None):
    if isinstance(tree, int): return xs[tree]
    if len(tree) == 2: return UNARY[tree[0]](evaluate(tree[1], xs, binary))
    return (binary or BINARY)[tree[0]](evaluate(tree[1], xs, binary), evaluate(tree[2], xs, binary))

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

# --- the node protocol and the forward pass ----------------------------------------------------
def test_value_satisfies_the_node_protocol():
    leaf = Value(2.0)
    for node in (leaf, leaf * 3, leaf.tanh(), dot([leaf], [leaf]), sum_values([leaf, 1.0]), leaf ** 2):
        assert isinstance(node, Node)
    assert (leaf * 3)._forward is not None and leaf._forward is None
    class NoForward:  # everything but _forward
        data, grad, _parents, _backward, _zero_grad = 1.0, 0.0, (), None, 0.0
        def _accumulate(self, g): pass
    assert not isinstance(NoForward(), Node)

# the same ops, plus the fused ones and constant powers, which only Values have
REPLAY_BINARY = {**BINARY,
                 'dot': lambda a, b: dot([a, b, 0.5], [b, a, a], a),
                 'sum': lambda a, b: sum_values([a, b, 1.5, a], 0.25),
                 'cpow': lambda a, b: (a * a + 0.5) ** -1.5 + b ** 2}

@settings(max_examples=150, deadline=None)
@given(tree=exprs(3, REPLAY_BINARY), before=st.tuples(floats, floats, floats), after=st.tuples(floats, floats, floats))
def test_forward_pass_replay_equals_rebuilding(tree, before, after):
    xs = [Value(v) for v in before]
    out = evaluate(tree, xs, REPLAY_BINARY) + 0.0          # + 0.0: a bare leaf becomes a node
    for x, v in zip(xs, after): x.data = v
    replayed = forward_pass(out)
    fresh_xs = [Value(v) for v in after]
    fresh = evaluate(tree, fresh_xs, REPLAY_BINARY) + 0.0
    assert replayed == pytest.approx(fresh.data, rel=1e-12, abs=1e-12)
    for a, b in zip(topological_order(out), topological_order(fresh)):   # every interior node too
        assert a.data == pytest.approx(b.data, rel=1e-12, abs=1e-12)
    out.backward(); fresh.backward()
    for x, f in zip(xs, fresh_xs):
        assert x.grad == pytest.approx(f.grad, rel=1e-12, abs=1e-12)

def test_forward_pass_refuses_a_graph_recorded_under_no_grad():
    x = Value(1.0)
    with no_grad(): y = (x * 2).tanh()
    with pytest.raises(ValueError, match="no_grad"): forward_pass(y)
    assert forward_pass(x) == 1.0   # a leaf is its own replay
    with pytest.raises(TypeError, match="forward_pass.*got float"): forward_pass(1.0)

def _recursive_order(root):
    order, seen = [], set()
    def visit(n):
        if n not in seen:
            seen.add(n)
            for p in n._parents: visit(p)
            order.append(n)
    visit(root)
    return order

@settings(max_examples=100, deadline=None)
@given(choices=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 3)), min_size=1, max_size=40))
def test_topological_order_equals_the_plain_recursive_one_on_random_graphs(choices):
    nodes = [Value(0.5), Value(-1.0), Value(2.0)]
    for i, j, op in choices:   # random DAGs with shared nodes
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append([a + b, a * b, a.tanh(), dot([a, b], [b, a])][op])
    root = sum_values(nodes)
    fast, plain = topological_order(root), _recursive_order(root)
    assert len(fast) == len(plain) and set(fast) == set(plain)
    where = {n: i for i, n in enumerate(fast)}
    assert all(where[p] < where[n] for n in fast for p in n._parents)

# --- defects of issue 11 -------------------------------------------------------------------------
def test_relu_backward_selects_so_an_infinite_upstream_gradient_gives_zero():   # D5
    for x0 in (-1.0, 0.0):
        x = Value(x0)
        (x.relu() ** 0.5).backward()
        assert x.grad == 0.0

def test_no_grad_is_per_thread():   # D21
    import threading
    entered, release, seen = threading.Event(), threading.Event(), {}
    def frozen_thread():
        with no_grad():
            entered.set(); release.wait(5)
            seen['frozen'] = (Value(1.0) * 2)._parents
    t = threading.Thread(target=frozen_thread); t.start()
    try:
        assert entered.wait(5)
        assert flags.grad_enabled                       # this thread still records ...
        assert (Value(1.0) * 2)._parents != ()          # ... while the other is inside no_grad()
    finally:
        release.set(); t.join(5)
    assert seen['frozen'] == ()
    with no_grad():                                     # and the other way round
        other = {}
        t = threading.Thread(target=lambda: other.update(p=(Value(1.0) * 2)._parents)); t.start(); t.join(5)
        assert other['p'] != () and (Value(1.0) * 2)._parents == ()

def test_detect_anomaly_is_for_every_thread_as_in_torch():
    import threading
    out = {}
    def other():
        try: Value(-1.0).log()
        except FloatingPointError as e: out['raised'] = str(e)
    with detect_anomaly():
        t = threading.Thread(target=other); t.start(); t.join(5)
    assert "'log' produced nan" in out['raised']
    assert math.isnan(Value(-1.0).log().data) and not flags.anomaly   # off again everywhere

def test_value_of_a_zero_dimensional_array_says_so():   # D22
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match=r"0-d ndarray.*float\(x\)"): Value(np.array(2.0))

from oracle import torch

@pytest.mark.parametrize("a,b", [(0.0, 0.0), (0.0, 2.0), (0.0, 0.5), (0.0, -1.0), (0.0, 1.0), (2.0, 0.0), (-1.0, 0.0), (1.5, 2.5)])
def test_power_gradients_at_base_zero_follow_torch(a, b):   # D9
    def ours_and_torch(make):
        va, vb = Value(a), Value(b)
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
        make(va, vb).backward(); make(ta, tb).backward()
        return [(va.grad, vb.grad), (ta.grad, tb.grad)]
    cases = {'value ** value': lambda x, y: x ** y, 'value ** number': lambda x, y: x ** b + y * 0,
             'number ** value': lambda x, y: a ** y + x * 0}
    for name, make in cases.items():
        (ga, gb), (ta, tb) = ours_and_torch(make)
        for ours, theirs in ((ga, ta), (gb, tb)):
            theirs = 0.0 if theirs is None else theirs.item()
            if math.isnan(theirs): assert math.isnan(ours), (name, ours, theirs)
            else: assert ours == theirs, (name, ours, theirs)

def test_second_backward_against_torch_retain_graph():
    """PyTorch raises on a second backward unless retain_graph=True; with it, leaves accumulate as ours do."""
    x, t = Value(0.8), torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    out, tout = (x * x).tanh() * x, (t * t).tanh() * t
    out.backward(); tout.backward(retain_graph=True)
    out.backward(); tout.backward()
    assert x.grad == pytest.approx(t.grad.item(), rel=1e-12)
    t2 = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    tout2 = (t2 * t2).tanh() * t2
    tout2.backward()
    with pytest.raises(RuntimeError): tout2.backward()

def test_interior_grads_restart_from_zero_unlike_torch_retain_grad():
    """Ours: an interior node's grad restarts from zero in every pass. PyTorch keeps none unless
    retain_grad(), and then it accumulates across passes like a leaf's (chapter 1 says so)."""
    a = Value(3.0); b = a + a; c = b * b
    c.backward(); c.backward()
    assert (a.grad, b.grad) == (48.0, 12.0)
    t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    tb = t + t; tc = tb * tb
    tb.retain_grad()
    tc.backward(retain_graph=True); tc.backward()
    assert t.grad.item() == a.grad            # leaves: the same in both
    assert tb.grad.item() == 2 * b.grad       # interior: PyTorch accumulated, ours restarted
    t2 = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    tb2 = t2 + t2; (tb2 * tb2).backward()
    assert t2.grad is not None                # a leaf keeps its grad ...
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')       # PyTorch warns when a non-leaf's .grad is read
        assert tb2.grad is None               # ... an interior tensor does not, unless asked


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

def _box_positions(fig):
    "Each box's centre, by its label (the first word of its text)."
    return {t.get_text().split()[0]: t.get_position() for t in fig.axes[0].texts if t.get_bbox_patch()}

@pytest.mark.parametrize('build', ['chain_rule', 'outline'])
def test_drawing_runs_no_arrow_behind_a_box_it_does_not_join(build):
    if build == 'chain_rule':   # L = (a*b + c)*f: the arrow c -> d once ran behind e's box
        a, b, c, f = (Value(v, label=k) for v, k in ((2.0, 'a'), (-3.0, 'b'), (10.0, 'c'), (-2.0, 'f')))
        e = a * b; e.label = 'e'
        d = e + c; d.label = 'd'
        root = d * f; root.label = 'L'
    else:
        w1, x1, w2, x2 = (Value(v, label=k) for v, k in ((3.0, 'w1'), (0.5, 'x1'), (-2.0, 'w2'), (0.25, 'x2')))
        y = w1 * x1 + w2 * x2; y.label = 'y'
        root = y * Value(3.0, label='three'); root.label = 'z'
        for n in topological_order(root): n.label = n.label or f"n{id(n)}"
    pos = _box_positions(draw_graph(root))
    nodes = topological_order(root)
    assert len(pos) == len(nodes)
    for n in nodes:
        for p in n._parents:
            (x0, y0), (x1_, y1) = pos[p.label], pos[n.label]
            for m in nodes:
                mx, my = pos[m.label]
                if x0 < mx < x1_:   # a box between the two ends, horizontally: the arrow passes clear of it
                    assert abs(y0 + (y1 - y0) * (mx - x0) / (x1_ - x0) - my) > 0.4, (p.label, n.label, m.label)

def _interrupt_at_line(k, action):
    "Run `action` with a KeyboardInterrupt raised at the k-th line it executes in autograd.py; return whether it was raised."
    import backprop_nb.autograd as ag
    count = [0]
    def tracer(frame, event, arg):
        if frame.f_code.co_filename != ag.__file__: return None
        if event == 'line':
            count[0] += 1
            if count[0] == k: raise KeyboardInterrupt
        return tracer
    sys.settrace(tracer)
    try: action()
    except KeyboardInterrupt: return True
    finally: sys.settrace(None)
    return False

def _no_grad_works_in_a_thread():
    import threading
    out = {}
    def run():
        with no_grad(): out['inside'] = (Value(1.0) * 2)._parents
        out['after'] = (Value(1.0) * 2)._parents
    t = threading.Thread(target=run, daemon=True); t.start(); t.join(5)
    return not t.is_alive() and out.get('inside') == () and out.get('after') != ()

@pytest.mark.parametrize('name, value', [('grad_enabled', False), ('grad_enabled', True), ('anomaly', True), ('anomaly', False)])
def test_an_interrupt_anywhere_inside_a_switch_leaves_no_grad_working(name, value):   # prober: lock left held
    import backprop_nb.autograd as ag
    start = lambda: (setattr(flags, 'grad_enabled', not value) if name == 'grad_enabled' else setattr(flags, 'anomaly', not value))
    k = 1
    while True:
        start()
        raised = _interrupt_at_line(k, lambda: setattr(flags, name, value))
        flags.grad_enabled, flags.anomaly = True, False   # the user's next switch
        assert ag._plain and _no_grad_works_in_a_thread(), f"interrupt at line {k} of switching {name} to {value}"
        if not raised: break
        k += 1
    assert k > 2   # the interrupt did land inside the switch
