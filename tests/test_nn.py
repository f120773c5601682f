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
