"""`backprop_nb.interop` (chapter 15): `to_torch` and `from_torch` against PyTorch. The same network, weights
and batch give the same outputs, loss and every gradient in float64 (to 1e-6), for the scalar MLP and for
tensor stacks of any shape and activations (hypothesis); the refusals name the layer; nothing random is
drawn; and without PyTorch the module imports, its functions say how to install it, and the chapter runs."""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from oracle import torch, needs_torch
import backprop_nb.tensor_nn as tnn
import backprop_nb.losses as losses
from backprop_nb.interop import to_torch, from_torch, TORCH_INSTALL
from backprop_nb.nn import MLP as ScalarMLP, Layer, Neuron, manual_seed, default_generator
from backprop_nb.tensor import Tensor

ROOT = Path(__file__).resolve().parent.parent
NB = ROOT / 'nbs' / '15_pytorch.ipynb'
TOL = dict(rtol=1e-6, atol=1e-6)
OURS = {'ReLU': tnn.ReLU, 'Tanh': tnn.Tanh, 'Sigmoid': tnn.Sigmoid}


def close(a, b): np.testing.assert_allclose(a, b, **TOL)

def tensor_run(model, X, y, loss):
    "Output, loss and {name: gradient} of one forward and backward pass of our tensor model."
    out = model(Tensor(X))
    value = tnn.mse_loss(out, y) if loss == 'mse' else tnn.cross_entropy(out, y)
    model.zero_grad(); value.backward()
    return out.data, value.item(), {k: p.grad for k, p in model.named_parameters()}

def torch_run(module, X, y, loss):
    "The same for a torch module."
    F = torch.nn.functional
    out = module(torch.tensor(X))
    value = F.mse_loss(out, torch.tensor(y)) if loss == 'mse' else F.cross_entropy(out, torch.tensor(y))
    module.zero_grad(); value.backward()
    return out.detach().numpy(), value.item(), {k: p.grad.numpy() for k, p in module.named_parameters()}

def assert_same_run(a, b):
    (out_a, loss_a, g_a), (out_b, loss_b, g_b) = a, b
    close(out_a, out_b); close(loss_a, loss_b)
    assert list(g_a) == list(g_b)                 # the same parameters, in the same order, by the same names
    for k in g_a: close(g_a[k], g_b[k])

def scalar_grads(mlp):
    out = []
    for layer in mlp.layers:
        out += [np.array([[w.grad for w in n.w] for n in layer.neurons]), np.array([n.b.grad for n in layer.neurons])]
    return out


# ---------------------------------------------------------------- parity, float64

@needs_torch
@settings(max_examples=25, deadline=None)
@given(nin=st.integers(1, 4), sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3), batch=st.integers(1, 5),
       seed=st.integers(0, 2**16))
def test_scalar_mlp_parity(nin, sizes, batch, seed):
    manual_seed(seed)
    smodel = ScalarMLP(nin, sizes)
    rng = np.random.default_rng(seed)
    X, y = rng.uniform(-2, 2, (batch, nin)), rng.normal(size=(batch, sizes[-1]))
    pmodel = to_torch(smodel)
    assert all(p.dtype == torch.float64 for p in pmodel.parameters())
    preds = smodel.forward_batch(X.tolist())
    loss = losses.mse_loss(preds, y)
    loss.backward()
    out = np.array([[v.data for v in (p if isinstance(p, list) else [p])] for p in preds])
    p_out, p_loss, p_grads = torch_run(pmodel, X, y, 'mse')
    close(out, p_out); close(loss.data, p_loss)
    for g, pg in zip(scalar_grads(smodel), p_grads.values(), strict=True): close(g, pg)

@needs_torch
def test_scalar_layer_parity():
    manual_seed(0)
    layer = Layer(3, 2)                          # ReLU neurons
    module = to_torch(layer)
    assert [type(m).__name__ for m in module] == ['Linear', 'ReLU']
    X = np.random.default_rng(0).normal(size=(5, 3))
    close(np.array([[v.data for v in layer(x)] for x in X.tolist()]), module(torch.tensor(X)).detach().numpy())

def stacks():
    "A tensor Sequential's recipe: input size, then (out_features, bias, activation or None) per Linear."
    layer = st.tuples(st.integers(1, 6), st.booleans(), st.sampled_from([None, 'ReLU', 'Tanh', 'Sigmoid']))
    return st.tuples(st.integers(1, 5), st.lists(layer, min_size=1, max_size=4))

def build(recipe, dtype=np.float64):
    nin, layers = recipe
    steps = []
    for nout, bias, act in layers:
        steps.append(tnn.Linear(nin, nout, bias=bias, dtype=dtype))
        if act: steps.append(OURS[act]())
        nin = nout
    return tnn.Sequential(*steps)

@needs_torch
@settings(max_examples=40, deadline=None)
@given(recipe=stacks(), batch=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_tensor_stack_parity_both_ways(recipe, batch, seed):
    manual_seed(seed)
    model = build(recipe)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, (batch, recipe[0]))
    nout = recipe[1][-1][0]
    loss = 'ce' if nout >= 2 and seed % 2 else 'mse'
    y = rng.integers(0, nout, batch) if loss == 'ce' else rng.normal(size=(batch, nout))
    module = to_torch(model)
    assert_same_run(tensor_run(model, X, y, loss), torch_run(module, X, y, loss))
    back = from_torch(module)                    # and back: the same numbers, names and dtypes, exactly
    assert [(k, p.data.dtype) for k, p in back.named_parameters()] == [(k, p.data.dtype) for k, p in model.named_parameters()]
    for p, q in zip(back.parameters(), model.parameters()): np.testing.assert_array_equal(p.data, q.data)
    assert_same_run(tensor_run(back, X, y, loss), torch_run(module, X, y, loss))

@needs_torch
def test_tensor_mlp_and_a_torch_made_network():
    manual_seed(0)
    mlp = tnn.MLP(4, [8, 8, 3], dtype=np.float64)
    X, y = np.random.default_rng(0).normal(size=(7, 4)), np.array([0, 1, 2, 0, 1, 2, 2])
    assert_same_run(tensor_run(mlp, X, y, 'ce'), torch_run(to_torch(mlp), X, y, 'ce'))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(),
                              torch.nn.Sequential(torch.nn.Linear(5, 5, bias=False), torch.nn.Sigmoid()),
                              torch.nn.Linear(5, 3), torch.nn.ReLU(inplace=True)).double()
    ours = from_torch(net)
    assert list(ours.state_dict()) == list(net.state_dict())
    assert_same_run(tensor_run(ours, X, y, 'ce'), torch_run(net, X, y, 'ce'))


# ---------------------------------------------------------------- what is copied, and what is left alone

@needs_torch
def test_dtypes_are_kept_and_others_refused():
    manual_seed(0)
    m32 = tnn.MLP(2, [3, 1])
    assert {p.dtype for p in to_torch(m32).parameters()} == {torch.float32}
    assert {p.data.dtype for p in from_torch(torch.nn.Linear(2, 3)).parameters()} == {np.dtype(np.float32)}
    with pytest.raises(TypeError, match=r"layer '0' holds torch.float16 parameters; convert the module with .float\(\)"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3).half()))

@needs_torch
def test_parameters_are_copies_with_their_flags():
    manual_seed(0)
    model = tnn.MLP(2, [3, 1], dtype=np.float64)
    model[0].bias.requires_grad_(False)
    module = to_torch(model)
    assert [p.requires_grad for p in module.parameters()] == [True, False, True, True]
    with torch.no_grad(): module[0].weight += 1
    assert not np.allclose(module[0].weight.detach().numpy(), model[0].weight.data)
    model[2].weight.data[...] = 5.0
    assert not (module[2].weight.detach().numpy() == 5.0).any()
    back = from_torch(module)
    assert (back[0].bias.requires_grad, back[0].weight.requires_grad) == (False, True)
    assert len(back.parameters()) == 3   # ours lists only what training may change (chapter 2); torch lists 4
    with torch.no_grad(): module[2].bias += 1
    assert not np.allclose(back[2].bias.data, module[2].bias.detach().numpy())

@needs_torch
def test_no_random_numbers_are_drawn():
    manual_seed(0)
    model = tnn.MLP(3, [4, 2])
    torch_state, ours_state = torch.get_rng_state(), default_generator.bit_generator.state
    to_torch(model); to_torch(ScalarMLP(3, [2]))
    from_torch(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()))   # (the module's own init drew from torch)
    assert default_generator.bit_generator.state == ours_state
    torch.set_rng_state(torch_state); to_torch(model)
    assert torch.equal(torch.get_rng_state(), torch_state)

@needs_torch
def test_our_state_dict_loads_into_to_torch_module_unless_frozen():
    "Chapter 15's habit: our state_dict (numpy arrays, frozen parameters left out) into a PyTorch module."
    manual_seed(0)
    model = tnn.MLP(2, [3, 1], dtype=np.float64)
    module = to_torch(model)
    with torch.no_grad():
        for p in module.parameters(): p.zero_()
    module.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    for (k, p), (k2, q) in zip(model.named_parameters(), module.named_parameters(), strict=True):
        assert k == k2; np.testing.assert_array_equal(p.data, q.detach().numpy())
    model[0].bias.requires_grad_(False)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0.bias"'):
        module.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})


# ---------------------------------------------------------------- refusals

@needs_torch
@pytest.mark.parametrize('module, message', [
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.5)), "from_torch: layer '1' is a Dropout"),
    (lambda: torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU())), "layer '0.1' is a GELU"),
    (lambda: torch.nn.Conv2d(1, 1, 3), "the module is a Conv2d"),
    (lambda: torch.nn.LeakyReLU(), "the module is a LeakyReLU"),
    (lambda: type('Net', (torch.nn.Module,), {'forward': lambda self, x: x})(), "the module is a Net"),
])
def test_from_torch_refuses_what_it_cannot_translate(module, message):
    with pytest.raises(TypeError, match=message): from_torch(module())

@needs_torch
@pytest.mark.parametrize('model, message', [
    (lambda: tnn.Sequential(tnn.Linear(2, 2), lambda x: x * 2), "to_torch: layer '1' is a function"),
    (lambda: tnn.Sequential(tnn.Sequential(tnn.ReLU(), object)), "layer '0.1' is a type"),
    (lambda: Neuron(3), "the model is a Neuron"),
    (lambda: type('Mine', (tnn.Linear,), {'forward': lambda self, x: x})(2, 2), "the model is a Mine"),
    (lambda: torch.nn.Linear(2, 2), "is a torch.nn.Module already"),
    (lambda: [tnn.Linear(2, 2)], "the model is a list"),
])
def test_to_torch_refuses_what_it_cannot_translate(model, message):
    with pytest.raises(TypeError, match=message): to_torch(model())

@needs_torch
def test_a_scalar_layer_that_mixes_relu_and_linear_neurons_is_refused():
    manual_seed(0)
    mlp = ScalarMLP(2, [3, 1])
    mlp.layers[0].neurons[1].nonlin = False
    with pytest.raises(ValueError, match="to_torch: scalar layer 0: Layer.as_arrays: its neurons disagree on nonlin"): to_torch(mlp)

@needs_torch
def test_from_torch_wants_a_torch_module():
    with pytest.raises(TypeError, match="expected a torch.nn.Module, got MLP"): from_torch(tnn.MLP(2, [1]))


# ---------------------------------------------------------------- without PyTorch

def run_without_torch(code):
    "Run `code` in a fresh Python in which `import torch` fails, as on a machine without it."
    script = "import sys\nsys.modules['torch'] = None   # `import torch` raises ImportError from here on\n" + textwrap.dedent(code)
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]), 'MPLBACKEND': 'Agg'}
    return subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)

def test_without_torch_the_module_imports_and_says_how_to_install_it():
    r = run_without_torch("""
        import backprop_nb.interop as interop
        from backprop_nb.tensor_nn import MLP
        for call in (lambda: interop.to_torch(MLP(2, [1])), lambda: interop.from_torch(None)):
            try: call()
            except ImportError as e: print(e)
        """)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2, r.stdout
    assert lines[0].startswith('to_torch: needs PyTorch') and lines[1].startswith('from_torch: needs PyTorch')
    assert all(TORCH_INSTALL in line and 'pip install torch==2.13.0' in line for line in lines)

def test_the_chapter_runs_without_torch():
    "Every cell of chapter 15 runs; those that need PyTorch are skipped, and the chapter says so once."
    r = run_without_torch(f"""
        import json
        from execnb.nbio import read_nb
        from execnb.shell import CaptureShell
        from fastcore.xtras import working_directory
        nb = read_nb({str(NB)!r})
        with working_directory({str(NB.parent)!r}): CaptureShell({str(NB)!r}).run_all(nb, exc_stop=True)
        outs = [o for c in nb.cells for o in c.get('outputs', [])]
        print(json.dumps([''.join(o.get('text', '')) for o in outs if o.get('output_type') == 'stream']))
        flag = next(c for c in nb.cells if 'HAVE_TORCH = True' in ''.join(c.source))
        print(json.dumps([''.join(o['data']['text/plain']) for o in flag.outputs if 'text/plain' in o.get('data', {{}})]))
        """)
    assert r.returncode == 0, r.stderr[-3000:]
    streams, first_result = (json.loads(line) for line in r.stdout.strip().splitlines()[-2:])
    text = ''.join(streams)
    assert text.count('PyTorch is not installed') == 1 and 'pip install torch==2.13.0' in text
    assert 'to_torch: needs PyTorch' in text         # the cell that hides torch shows the error either way
    assert 'PyTorch runs on' not in text              # the torch cells were skipped
    assert first_result == ['False']                  # the cell that sets HAVE_TORCH shows it
