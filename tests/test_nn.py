"Modules, neurons, layers, MLPs: micrograd compatibility, parameters, state dicts and .npz files."
import os, random, zipfile
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from backprop_nb.autograd import Value, topological_order
from backprop_nb.nn import Module, Neuron, Layer, MLP, save_npz, load_npz
import micrograd.engine, micrograd.nn

# ---------------------------------------------------------------- micrograd compatibility
def demo(Value, MLP, steps=3):
    "micrograd's demo (moons replaced by a fixed small dataset), parameterised only by the two imported names."
    random.seed(1337)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2)); y = np.where(X[:, 0] * X[:, 1] > 0, 1, -1)
    model = MLP(2, [16, 16, 1])
    out = [repr(model)[:3], len(model.parameters())]
    for k in range(steps):
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum((p * p for p in model.parameters()))
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        out.append(total_loss.data)
    return out

def test_micrograd_demo_runs_with_only_the_import_changed():
    theirs = demo(micrograd.engine.Value, micrograd.nn.MLP)
    ours = demo(Value, MLP)
    assert ours[:2] == theirs[:2] == ['MLP', 337]
    np.testing.assert_allclose(ours[2:], theirs[2:], rtol=0, atol=1e-12)

def copy_weights(src, dst):
    for p, q in zip(src.parameters(), dst.parameters(), strict=True): q.data = p.data

@pytest.mark.parametrize('nin,nouts', [(2, [16, 16, 1]), (3, [4, 4, 3]), (1, [1]), (5, [8, 2])])
def test_same_forward_outputs_as_micrograd_on_the_same_weights(nin, nouts):
    theirs = micrograd.nn.MLP(nin, nouts)
    ours = MLP(nin, nouts)
    copy_weights(theirs, ours)
    rng = np.random.default_rng(1)
    for x in rng.normal(size=(10, nin)):
        a, b = ours(list(x)), theirs([micrograd.engine.Value(v) for v in x])
        a, b = (a, b) if isinstance(a, list) else ([a], [b])
        assert [v.data for v in a] == [v.data for v in b]   # bit for bit: same summation order

def test_same_gradients_as_micrograd():
    theirs, ours = micrograd.nn.MLP(3, [5, 4, 1]), MLP(3, [5, 4, 1])
    copy_weights(theirs, ours)
    x = [0.3, -1.2, 2.0]
    ours(x).backward(); theirs([micrograd.engine.Value(v) for v in x]).backward()
    np.testing.assert_allclose([p.grad for p in ours.parameters()], [p.grad for p in theirs.parameters()], rtol=1e-13, atol=1e-15)

def test_same_random_weights_as_micrograd_from_the_same_seed():
    random.seed(7); theirs = micrograd.nn.MLP(2, [3, 1])
    random.seed(7); ours = MLP(2, [3, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]

def test_micrograd_attributes_and_parameter_order():
    m = MLP(2, [3, 1])
    assert len(m.layers) == 2 and len(m.layers[0].neurons) == 3
    n = m.layers[0].neurons[1]
    assert len(n.w) == 2 and isinstance(n.b, Value) and n.nonlin and not m.layers[1].neurons[0].nonlin
    expected = [p for l in m.layers for n in l.neurons for p in n.w + [n.b]]
    assert all(a is b for a, b in zip(m.parameters(), expected, strict=True))
    assert repr(m.layers[0].neurons[0]) == 'ReLUNeuron(2)' and repr(m.layers[1].neurons[0]) == 'LinearNeuron(3)'
    assert repr(m) == 'MLP(2, [3, 1])'

def test_one_neuron_layer_in_the_middle():
    with pytest.raises(TypeError):   # micrograd's own MLP cannot do this ...
        micrograd.nn.MLP(2, [16, 1, 1])([1.0, 2.0])
    m = MLP(2, [16, 1, 1])           # ... ours can
    out = m([1.0, 2.0])
    assert isinstance(out, Value)
    out.backward()
    assert len(m.parameters()) == 48 + 17 + 2

def test_inputs_may_be_numbers_values_or_numpy_rows():
    m = MLP(3, [4, 2])
    x = [0.5, -1.0, 2.0]
    a = [v.data for v in m(x)]
    assert a == [v.data for v in m([Value(v) for v in x])] == [v.data for v in m(np.array(x))]
    assert [[v.data for v in r] for r in m.forward_batch(np.array([x, x]))] == [a, a]
    layer = Layer(1, 2)   # a lone input is a list of one
    assert [v.data for v in layer(Value(3.0))] == [v.data for v in layer(3.0)] == [v.data for v in layer([3.0])]

def test_one_node_per_neuron():
    n = Neuron(10)
    out = n([float(i) for i in range(10)])
    assert len(topological_order(out)) == 1 + 1 + 10 + 10 + 1   # relu, dot, w's, x's, b

@pytest.mark.parametrize('call,exc,msg', [
    (lambda: Neuron(0), ValueError, 'nin must be at least 1'),
    (lambda: Neuron('3'), TypeError, 'nin must be an int'),
    (lambda: Layer(2, 0), ValueError, 'nout must be at least 1'),
    (lambda: MLP(2, 3), TypeError, 'nouts must be a list'),
    (lambda: MLP(2, []), ValueError, 'nouts is empty'),
    (lambda: MLP(2, [3, 0]), ValueError, 'at least 1'),
    (lambda: MLP(2, [3])([1.0]), ValueError, 'expected 2 inputs, got 1'),
    (lambda: MLP(2, [3])(['a', 'b']), TypeError, 'inputs must be numbers or Values'),
])
def test_errors(call, exc, msg):
    with pytest.raises(exc, match=msg): call()

# ---------------------------------------------------------------- Module
class FakeTensor:
    "Stands in for the tensor parameters of the next chapter: array data, requires_grad."
    def __init__(self, shape, dtype=np.float32):
        self.data = np.arange(np.prod(shape), dtype=dtype).reshape(shape); self.grad = np.ones(shape, dtype); self.requires_grad = True

class Mixed(Module):
    def __init__(self):
        self.weight = FakeTensor((3, 2)); self.bias = FakeTensor((2,))
        self.blocks = {'a': Neuron(2), 'b': (Value(1.0), Value(2.0))}
        self.frozen = type('C', (), {'data': np.zeros(2), 'grad': None, 'requires_grad': False})()
        self._hidden = Value(5.0)
    def forward(self, x): return x

def test_named_parameters_walks_attributes_lists_dicts_and_modules():
    m = Mixed()
    assert [k for k, _ in m.named_parameters()] == ['weight', 'bias', 'blocks.a.w.0', 'blocks.a.w.1', 'blocks.a.b', 'blocks.b.0', 'blocks.b.1']
    assert m.num_parameters() == 6 + 2 + 3 + 2

def test_zero_grad_drops_array_gradients_and_zeroes_values():
    m = Mixed()
    for p in m.parameters():
        if isinstance(p, Value): p.grad = 3.0
    m.zero_grad()
    assert m.weight.grad is None   # as PyTorch's zero_grad(set_to_none=True)
    assert all(p.grad == 0.0 for p in m.parameters() if isinstance(p, Value))

def test_state_dict_of_arrays_is_a_copy_and_loads_in_place():
    m = Mixed(); sd = m.state_dict()
    assert sd['weight'].dtype == np.float32 and sd['blocks.b.0'].dtype == np.float64 and sd['blocks.b.0'].shape == ()
    sd['weight'] += 1; arr = m.weight.data
    assert not np.array_equal(arr, sd['weight'])
    m.load_state_dict(sd)
    assert m.weight.data is arr and np.array_equal(arr, sd['weight'])

def test_base_module_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match='must define forward'): Module()(1)

@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(0, 2**32 - 1))
def test_state_dict_round_trip(nin, nouts, seed):
    random.seed(seed)
    a, b = MLP(nin, nouts), MLP(nin, nouts)
    b.load_state_dict(a.state_dict())
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    x = [0.1 * i for i in range(nin)]
    oa, ob = a(x), b(x)
    assert ([v.data for v in oa] if isinstance(oa, list) else oa.data) == ([v.data for v in ob] if isinstance(ob, list) else ob.data)

@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_mismatched_state_dict_changes_nothing(nouts_a, nouts_b):
    a, b = MLP(2, nouts_a), MLP(2, nouts_b)
    if nouts_a == nouts_b: return
    before = b.state_dict()
    with pytest.raises(ValueError, match="load_state_dict: (parameter '.*' is missing|unexpected entry)"):
        b.load_state_dict(a.state_dict())
    assert all(np.array_equal(before[k], v) for k, v in b.state_dict().items())

def test_wrong_shape_or_kind_changes_nothing():
    m = Mixed(); before = m.state_dict()
    sd = dict(before); sd['bias'] = np.zeros(3)
    with pytest.raises(ValueError, match=r"parameter 'bias' has shape \(2,\) in the model but \(3,\)"): m.load_state_dict(sd)
    sd = dict(before); sd['blocks.b.1'] = np.array(['x'])
    with pytest.raises(TypeError, match="'blocks.b.1' must be numbers"): m.load_state_dict(sd)
    with pytest.raises(TypeError, match='expected a dict'): m.load_state_dict([1, 2])
    assert all(np.array_equal(before[k], v) for k, v in m.state_dict().items())

# ---------------------------------------------------------------- .npz files
@pytest.fixture
def model():
    random.seed(3); return MLP(2, [3, 1])

def unchanged(m, before): return all(np.array_equal(before[k], v) for k, v in m.state_dict().items())

def test_npz_round_trip(tmp_path, model):
    f = tmp_path / 'm.npz'
    assert save_npz(model, f) == str(f) and f.exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix == '.tmp']
    other = MLP(2, [3, 1]); load_npz(other, f)
    assert unchanged(other, model.state_dict())
    with np.load(f, allow_pickle=False) as z: assert 'layers.0.neurons.0.w.0' in z.files

def test_npz_path_without_suffix_is_kept(tmp_path, model):
    f = tmp_path / 'weights'
    save_npz(model, f); assert f.exists() and not (tmp_path / 'weights.npz').exists()
    load_npz(MLP(2, [3, 1]), f)

def bad_file(tmp_path, kind, model):
    f = tmp_path / 'bad.npz'
    if kind == 'truncated':
        save_npz(model, f); data = f.read_bytes(); f.write_bytes(data[:len(data) // 2])
    elif kind == 'text': f.write_text('hello, I am not a model\n')
    elif kind == 'empty-file': f.write_bytes(b'')
    elif kind == 'npy': np.save(open(f, 'wb'), np.zeros(3))
    elif kind == 'no-arrays': np.savez(open(f, 'wb'))
    elif kind == 'pickled': np.savez(open(f, 'wb'), **{'layers.0.neurons.0.w.0': np.array([{'a': 1}], dtype=object)})
    elif kind == 'corrupt-member':
        save_npz(model, f)
        with zipfile.ZipFile(f, 'a') as z: z.writestr('extra.npy', b'garbage')
    elif kind == 'corrupt-header':
        save_npz(model, f)
        with zipfile.ZipFile(f, 'a') as z: z.writestr('extra.npy', b'\x93NUMPY\x01\x00garbage')
    elif kind == 'wrong-names': np.savez(open(f, 'wb'), a=np.zeros(()), b=np.zeros(()))
    elif kind == 'wrong-shapes': np.savez(open(f, 'wb'), **{k: np.zeros(2) for k in model.state_dict()})
    elif kind == 'other-architecture': save_npz(MLP(2, [4, 1]), f)
    return f

@pytest.mark.parametrize('kind,msg', [
    ('truncated', 'cannot read'), ('text', 'cannot read'), ('empty-file', 'cannot read'), ('npy', 'single array'),
    ('no-arrays', 'holds no arrays'), ('pickled', 'cannot read'), ('corrupt-member', "entry 'extra' is not an array"), ('corrupt-header', 'cannot read'),
    ('wrong-names', 'does not fit this MLP'), ('wrong-shapes', 'has shape'), ('other-architecture', 'does not fit'),
])
def test_bad_npz_raises_valueerror_and_changes_nothing(tmp_path, model, kind, msg):
    f = bad_file(tmp_path, kind, model)
    target = MLP(2, [3, 1]); before = target.state_dict()
    with pytest.raises(ValueError, match=msg) as e: load_npz(target, f)
    assert 'load_npz' in str(e.value)
    assert unchanged(target, before)

def test_missing_file(tmp_path, model):
    with pytest.raises(FileNotFoundError, match='no such file'): load_npz(model, tmp_path / 'nope.npz')

def test_shared_submodules_and_back_references_are_walked_once():
    class Net(Module):
        def __init__(self):
            self.a = Neuron(2); self.b = self.a; self.me = self
    assert [k for k, _ in Net().named_parameters()] == ['a.w.0', 'a.w.1', 'a.b']

# ---------------------------------------------------------------- layering and engine-neutral Module (issues 9 and 10)
import ast, builtins, errno, inspect, io, re, signal, stat, subprocess, sys, warnings
import backprop_nb.nn as nn_module
import backprop_nb.losses as losses_module

def imported_modules(mod):
    "Every backprop_nb module `mod` imports, at the top or inside a function."
    names = set()
    for node in ast.walk(ast.parse(inspect.getsource(mod))):
        if isinstance(node, ast.ImportFrom) and node.level == 1: names.add(node.module or '')
        elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith('backprop_nb'):
            names.add(node.module.removeprefix('backprop_nb').lstrip('.') or next(a.name for a in node.names))
        elif isinstance(node, ast.Import): names |= {a.name.removeprefix('backprop_nb.') for a in node.names if a.name.startswith('backprop_nb')}
    return names

def test_nn_and_losses_import_only_earlier_chapters():
    assert imported_modules(nn_module) <= {'autograd', 'derivatives'}
    assert imported_modules(losses_module) <= {'autograd', 'derivatives', 'nn'}
    assert not hasattr(nn_module, '__getattr__') and not hasattr(losses_module, '__getattr__')
    assert not hasattr(nn_module, 'TensorMLP')

engine_test = re.compile(r'isinstance\([^)]*(Value|ndarray|Tensor)|type\([^)]*\) is')

def test_module_methods_ask_objects_not_engine_types():
    for name in ('named_parameters', 'zero_grad', 'forward_batch', 'state_dict', 'load_state_dict', 'num_parameters'):
        assert not engine_test.search(inspect.getsource(getattr(Module, name))), name
    for f in (nn_module._is_parameter, nn_module.clear_grad): assert not engine_test.search(inspect.getsource(f))

def test_clear_grad_uses_what_the_parameter_says_a_cleared_gradient_is():
    v = Value(1.0); v.grad = 3.0
    nn_module.clear_grad(v); assert v.grad == 0.0 and type(v.grad) is float
    t = FakeTensor((2,)); nn_module.clear_grad(t); assert t.grad is None
    t._zero_grad = 'cleared'; nn_module.clear_grad(t); assert t.grad == 'cleared'   # asked of the object

def test_forward_batch_asks_the_parameters():
    class Arrays(Module):
        def __init__(self): self.weight = FakeTensor((3,), np.float64)
        def forward(self, x): return np.asarray(x) @ self.weight.data
    X = np.ones((4, 3))
    np.testing.assert_array_equal(Arrays().forward_batch(X), X @ np.arange(3.0))     # one call on the batch
    m = MLP(3, [2]); out = m.forward_batch(X)
    assert isinstance(out, list) and len(out) == 4

def test_as_arrays_is_the_network_without_a_graph():
    random.seed(0); m = MLP(3, [5, 4, 2])
    x = np.array([0.3, -1.0, 2.0]); h = x
    for W, b, relu in m.as_arrays():
        h = W @ h + b
        if relu: h = np.maximum(h, 0)
    np.testing.assert_allclose(h, [v.data for v in m(list(x))], rtol=1e-13, atol=1e-15)
    m.layers[0].neurons[1].nonlin = False
    with pytest.raises(ValueError, match='disagree on nonlin'): m.as_arrays()

def test_patch_adds_a_method_to_the_annotated_class():
    # patch takes one class (main's e1f215e: a union broke the docs' show_doc); patch each class in turn
    class A: pass
    class B: pass
    def hello(self): return type(self).__name__
    for cls in (A, B):
        def h(self: cls): return hello(self)
        h.__name__ = 'hello'
        nn_module.patch(h)
    assert A().hello() == 'A' and B().hello() == 'B'
    assert not hasattr(object(), 'hello')

def test_manual_seed_seeds_python_random_too():
    nn_module.manual_seed(3); a = [p.data for p in MLP(2, [3, 1]).parameters()]; g = nn_module.default_generator.random()
    nn_module.manual_seed(3); b = [p.data for p in MLP(2, [3, 1]).parameters()]
    assert a == b and g == nn_module.default_generator.random() == np.random.default_rng(3).random()

# ---------------------------------------------------------------- D4, D19: load_npz checks headers, then values
def npy_bytes(a): buf = io.BytesIO(); np.lib.format.write_array(buf, np.asarray(a)); return buf.getvalue()

def write_zip(f, entries):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # zipfile warns about duplicate names: that is the point of one test
        with zipfile.ZipFile(f, 'w') as z:
            for name, data in entries: z.writestr(name, data)
    return f

def claiming_header(shape, descr='<f4', data=b'\0' * 64):
    buf = io.BytesIO(); np.lib.format.write_array_header_1_0(buf, {'descr': descr, 'fortran_order': False, 'shape': shape})
    return buf.getvalue() + data

@pytest.mark.parametrize('which', ['known-name', 'unknown-name'])
def test_D4_huge_claim_refused_from_the_header_before_any_array_is_read(tmp_path, model, monkeypatch, which):
    sd = model.state_dict(); first = next(iter(sd))
    entries = [(k + '.npy', npy_bytes(v)) for k, v in sd.items() if k != first]
    entries.insert(0, ((first if which == 'known-name' else 'huge') + '.npy', claiming_header((400_000_000,))))   # 1.6 GB claimed
    f = write_zip(tmp_path / 'big.npz', entries)
    assert f.stat().st_size < 10_000
    def no_read(*a, **k): raise AssertionError('an array was read before the headers were checked')
    monkeypatch.setattr(np.lib.format, 'read_array', no_read)
    target = MLP(2, [3, 1]); before = target.state_dict()
    msg = r"has shape \(\) in the model but \(400000000,\) in the file" if which == 'known-name' else "is missing from the file"
    with pytest.raises(ValueError, match=msg) as e: load_npz(target, f)
    assert 'load_npz' in str(e.value) and 'does not fit this MLP' in str(e.value)
    assert unchanged(target, before)

def test_D4_object_dtype_refused_from_the_header(tmp_path, model, monkeypatch):
    sd = model.state_dict(); first = next(iter(sd))
    entries = [(k + '.npy', claiming_header((), descr='|O') if k == first else npy_bytes(v)) for k, v in sd.items()]
    monkeypatch.setattr(np.lib.format, 'read_array', lambda *a, **k: pytest.fail('read'))
    with pytest.raises(ValueError, match=f"entry '{first}' holds dtype object, not numbers"): load_npz(model, write_zip(tmp_path / 'o.npz', entries))

@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_D19_non_finite_values_refused_naming_the_parameter(tmp_path, model, bad):
    sd = model.state_dict(); sd['layers.0.neurons.2.w.1'] = np.array(bad)
    f = tmp_path / 'nan.npz'; np.savez(f, **sd)
    target = MLP(2, [3, 1]); before = target.state_dict()
    with pytest.raises(ValueError, match=f"parameter 'layers.0.neurons.2.w.1' holds {bad}: saved parameters must be finite"): load_npz(target, f)
    assert unchanged(target, before)

def test_D19_value_overflowing_the_models_dtype_refused(tmp_path):
    m = Mixed(); sd = m.state_dict(); before = m.state_dict()
    sd['weight'] = sd['weight'].astype(np.float64); sd['weight'][1, 0] = 1e300   # fine in float64, inf in the float32 model
    f = tmp_path / 'big.npz'; np.savez(f, **sd)
    with pytest.raises(ValueError, match=r"parameter 'weight' holds 1e\+300, too large for the model's float32"): load_npz(m, f)
    assert unchanged(m, before)

def test_D19_duplicate_zip_entries_refused(tmp_path, model):
    sd = model.state_dict(); first = next(iter(sd))
    entries = [(k + '.npy', npy_bytes(v)) for k, v in sd.items()] + [(first + '.npy', npy_bytes(np.array(5.0)))]
    target = MLP(2, [3, 1]); before = target.state_dict()
    with pytest.raises(ValueError, match=f"entry '{first}' appears twice"): load_npz(target, write_zip(tmp_path / 'dup.npz', entries))
    assert unchanged(target, before)

def test_D19_entry_size_must_match_its_header(tmp_path, model):
    sd = model.state_dict(); first = next(iter(sd))
    entries = [(k + '.npy', npy_bytes(v) + (b'trailing' if k == first else b'')) for k, v in sd.items()]
    with pytest.raises(ValueError, match=f"cannot read .*entry '{first}' holds"): load_npz(model, write_zip(tmp_path / 't.npz', entries))

# ---------------------------------------------------------------- D22: load_npz says what is wrong with the path
def test_D22_unreadable_file_is_not_called_damaged(tmp_path, model, monkeypatch):
    f = tmp_path / 'm.npz'; save_npz(model, f)
    real_open = builtins.open
    def deny(p, *a, **k):
        if os.fspath(p) == str(f): raise PermissionError(errno.EACCES, 'Permission denied', str(f))
        return real_open(p, *a, **k)
    monkeypatch.setattr(builtins, 'open', deny)
    with pytest.raises(PermissionError, match='load_npz: cannot read .*Permission denied') as e: load_npz(model, f)
    assert 'damaged' not in str(e.value)

def test_D22_folder_and_device_are_not_no_such_file(tmp_path, model):
    with pytest.raises(IsADirectoryError, match='is a folder, not a file'): load_npz(model, tmp_path)
    with pytest.raises(ValueError, match='is not a regular file'): load_npz(model, os.devnull)

# ---------------------------------------------------------------- D18, D22: save_npz
def test_D18_mode_honours_the_umask(tmp_path, model):
    for umask, mode in ((0o022, 0o644), (0o027, 0o640)):
        old = os.umask(umask)
        try: save_npz(model, tmp_path / f'm{umask:o}.npz')
        finally: os.umask(old)
        assert stat.S_IMODE((tmp_path / f'm{umask:o}.npz').stat().st_mode) == mode

def test_D18_replacing_a_file_keeps_its_mode(tmp_path, model):
    f = tmp_path / 'm.npz'; f.write_bytes(b'old'); f.chmod(0o640)
    save_npz(model, f)
    assert stat.S_IMODE(f.stat().st_mode) == 0o640 and zipfile.is_zipfile(f)

def test_D18_symlink_is_written_through(tmp_path, model):
    real = tmp_path / 'real.npz'; save_npz(MLP(2, [3, 1]), real)
    link = tmp_path / 'link.npz'; link.symlink_to(real)
    save_npz(model, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert unchanged(load_npz(MLP(2, [3, 1]), real), model.state_dict())

def test_D18_read_only_target_is_refused(tmp_path, model):
    f = tmp_path / 'm.npz'; f.write_bytes(b'keep me'); f.chmod(0o444)
    with pytest.raises(PermissionError, match=f"save_npz: {f} is read-only; not replaced"): save_npz(model, f)
    assert f.read_bytes() == b'keep me' and sorted(os.listdir(tmp_path)) == ['m.npz']

def test_D18_folder_target_is_refused_by_name(tmp_path, model):
    with pytest.raises(IsADirectoryError, match=f"save_npz: {tmp_path} is a folder"): save_npz(model, tmp_path)

def test_D18_fsync_before_the_rename(tmp_path, model, monkeypatch):
    calls, fsync, replace = [], os.fsync, os.replace
    monkeypatch.setattr(os, 'fsync', lambda fd: (calls.append('fsync'), fsync(fd))[1])
    monkeypatch.setattr(os, 'replace', lambda a, b: (calls.append('replace'), replace(a, b))[1])
    save_npz(model, tmp_path / 'm.npz')
    assert calls[:2] == ['fsync', 'replace'] and calls.count('fsync') == 2   # the file, then the folder after the rename

def test_D18_D22_failure_leaves_no_temporary_and_names_the_target(tmp_path, model, monkeypatch):
    f = tmp_path / 'm.npz'; f.write_bytes(b'old')
    def disk_full(file, **arrays): file.write(b'partial'); raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(np, 'savez', disk_full)
    with pytest.raises(OSError, match=f"save_npz: cannot write {f}: No space left on device") as e: save_npz(model, f)
    assert '.tmp' not in str(e.value)
    assert sorted(os.listdir(tmp_path)) == ['m.npz'] and f.read_bytes() == b'old'
    with pytest.raises(FileNotFoundError, match=f"save_npz: cannot write {tmp_path}/no/m.npz: the folder .* does not exist") as e:
        save_npz(model, tmp_path / 'no' / 'm.npz')
    assert '.tmp' not in str(e.value)

def test_D18_sigkill_mid_write_leaves_nothing_behind(tmp_path):
    f = tmp_path / 'm.npz'
    code = f"""
import os, signal, random, numpy as np
from backprop_nb.nn import MLP, save_npz
random.seed(0); m = MLP(2, [3, 1]); save_npz(m, {str(f)!r})
def killed(file, **arrays): file.write(b'half a file'); file.flush(); os.kill(os.getpid(), signal.SIGKILL)
np.savez = killed
save_npz(MLP(2, [3, 1]), {str(f)!r})
"""
    r = subprocess.run([sys.executable, '-c', code], env={**os.environ, 'PYTHONPATH': os.pathsep.join(sys.path)}, capture_output=True)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert sorted(os.listdir(tmp_path)) == ['m.npz']                   # no temporary file, named or hidden
    random.seed(0); want = MLP(2, [3, 1]).state_dict()
    assert unchanged(load_npz(MLP(2, [3, 1]), f), want)               # the old file, intact

def test_probe_round_trips_and_odd_paths(tmp_path):
    "Beyond the list: compressed and big-endian archives load, a parameterless model round-trips, a FIFO does not block."
    from backprop_nb.tensor_nn import MLP as TMLP, Sequential, ReLU, manual_seed
    manual_seed(0); m, m2 = TMLP(3, [4, 2]), TMLP(3, [4, 2])
    np.savez_compressed(tmp_path / 'c.npz', **m.state_dict()); load_npz(m2, tmp_path / 'c.npz')
    assert unchanged(m2, m.state_dict())
    np.savez(tmp_path / 'be.npz', **{k: v.astype('>f8') for k, v in m.state_dict().items()}); load_npz(m2, tmp_path / 'be.npz')
    assert m2[0].weight.dtype == np.float32 and unchanged(m2, m.state_dict())
    s = Sequential(ReLU()); save_npz(s, tmp_path / 'empty.npz'); load_npz(s, tmp_path / 'empty.npz')
    os.mkfifo(tmp_path / 'fifo')
    with pytest.raises(ValueError, match='not a regular file'): load_npz(m2, tmp_path / 'fifo')
    with pytest.raises(IsADirectoryError, match='names a folder'): save_npz(m2, f"{tmp_path}/new.npz/")
    assert not (tmp_path / 'new.npz').exists()

def test_plots_ask_the_model_for_its_arrays():
    from backprop_nb import plots
    class OnlyArrays:   # no forward at all: predict_grid must use as_arrays()
        def as_arrays(self): return [(np.array([[1.0, -1.0], [0.5, 0.5]]), np.array([0.0, -1.0]), True), (np.array([[2.0, 1.0]]), np.array([0.5]), False)]
    pts = np.array([[1.0, 0.0], [0.0, 3.0]])
    h = np.maximum(pts @ np.array([[1.0, -1.0], [0.5, 0.5]]).T + [0.0, -1.0], 0) @ np.array([[2.0, 1.0]]).T + 0.5
    np.testing.assert_allclose(plots.predict_grid(OnlyArrays(), pts), h[:, 0])
    src = inspect.getsource(plots)
    assert 'neurons' not in src and 'isinstance(model' not in src

def test_save_and_load_take_a_bytes_path(tmp_path):
    model = MLP(2, [3, 1]); f = tmp_path / 'w.npz'
    assert save_npz(model, bytes(f)) == str(f)
    before = [p.data for p in model.parameters()]
    for p in model.parameters(): p.data = 0.0
    load_npz(model, bytes(f))
    assert [p.data for p in model.parameters()] == before
