"""`backprop_nb.torch`: PyTorch's tutorial-style scripts (tests/torch_scripts/) run on PyTorch and, with the import
changed, on our engine; both print the same numbers. Plus the layer's own checks, which need no PyTorch."""
import contextlib, io, math, re
from pathlib import Path
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from oracle import needs_torch

import backprop_nb.torch as bt
from backprop_nb.tensor import Tensor

SCRIPTS = sorted((Path(__file__).parent / 'torch_scripts').glob('*.py'))
SWAPS = [('import torch.nn.functional as F', 'import backprop_nb.torch.nn.functional as F'),
         ('from torch import nn', 'from backprop_nb.torch import nn'),
         ('import torch\n', 'import backprop_nb.torch as torch\n')]


def ours(source):
    for a, b in SWAPS: source = source.replace(a, b)
    return source


def run(source, name):
    "What the script prints."
    out = io.StringIO()
    with contextlib.redirect_stdout(out): exec(compile(source, name, 'exec'), {'__name__': '__main__'})
    return out.getvalue()


@contextlib.contextmanager
def torch_draws_from_numpy():
    """PyTorch's random draws (randn, rand, and uniform_, which nn.Linear's initialisation calls) taken from the numpy
    generator that `torch.manual_seed` now seeds as chapter 2's `manual_seed` does: both runs start from the same values."""
    import torch
    gen = [np.random.default_rng(0)]
    saved = {k: getattr(torch, k) for k in ('manual_seed', 'randn', 'rand')}
    saved_uniform = torch.Tensor.uniform_
    def shape(size): return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else size
    def manual_seed(seed):
        gen[0] = np.random.default_rng(seed)
        return saved['manual_seed'](seed)
    def draw(fn):
        def f(*size, dtype=None, requires_grad=False, device=None, **kwargs):
            return torch.tensor(fn(gen[0], shape(size)), dtype=dtype or torch.get_default_dtype(), requires_grad=requires_grad)
        return f
    def uniform_(self, a=0.0, b=1.0, generator=None):
        with torch.no_grad(): self.copy_(torch.from_numpy(gen[0].uniform(a, b, tuple(self.shape))))
        return self
    torch.manual_seed, torch.randn = manual_seed, draw(lambda g, s: g.standard_normal(s))
    torch.rand, torch.Tensor.uniform_ = draw(lambda g, s: g.random(s)), uniform_
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)   # PyTorch's own default (other test modules set float64 when imported)
    try: yield
    finally:
        for k, v in saved.items(): setattr(torch, k, v)
        torch.Tensor.uniform_ = saved_uniform
        torch.set_default_dtype(default)


NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])|\bTrue\b|\bFalse\b|\bnan\b|\binf\b")


def skeleton(line):
    "The line's words without its numbers, and without what only says which library printed it."
    line = re.sub(r"torch\.Size\(\[(.*?)\]\)", r"(\1)", line)
    line = re.sub(r",?\s*dtype=(torch\.)?\w+", '', line)
    line = re.sub(r" at 0x[0-9a-f]+", '', line).replace('torch.', '').replace('Tensor(', 'tensor(')
    line = NUMBER.sub('#', line)
    return re.sub(r"\s+", '', line).replace(',)', ')')


def same_numbers(x, y, scale=0.0):
    """Equal within rel 1e-3, or one unit in the last printed place of the less precise of the two, or 1e-5 of the
    largest number on the line (`scale`): a coefficient that trains to ~1e-8 beside one of ~1 is float32 noise in both."""
    if x in ('True', 'False', 'nan', 'inf') or y in ('True', 'False', 'nan', 'inf'): return x == y
    unit = max(10.0 ** -len(s.split('.')[1].split('e')[0].split('E')[0]) if '.' in s else 1.0 for s in (x, y))
    exp = max(int(re.split('[eE]', s)[1]) if re.search('[eE]', s) else 0 for s in (x, y))
    a, b = float(x), float(y)
    return abs(a - b) <= 1e-3 * max(abs(a), abs(b)) + unit * 10.0 ** exp * 1.0001 + 1e-5 * scale


def _scale(numbers):
    return max([abs(float(n)) for n in numbers if n not in ('True', 'False', 'nan', 'inf')] or [0.0])


def compare(theirs, mine):
    t, m = theirs.splitlines(), mine.splitlines()
    assert len(t) == len(m), f"PyTorch printed {len(t)} lines, backprop_nb.torch {len(m)}:\n{theirs}\n---\n{mine}"
    for i, (a, b) in enumerate(zip(t, m)):
        assert skeleton(a) == skeleton(b), f"line {i + 1} differs in its words:\n  torch: {a}\n  ours:  {b}"
        na, nb = NUMBER.findall(a), NUMBER.findall(b)
        assert len(na) == len(nb), f"line {i + 1}: {len(na)} numbers vs {len(nb)}:\n  torch: {a}\n  ours:  {b}"
        bad = [(x, y) for x, y in zip(na, nb) if not same_numbers(x, y, min(_scale(na), _scale(nb)))]
        assert not bad, f"line {i + 1}: numbers differ {bad[:3]}:\n  torch: {a}\n  ours:  {b}"


@needs_torch
@pytest.mark.parametrize('script', SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_prints_what_pytorch_prints(script):
    source = script.read_text()
    assert 'import torch\n' in source and 'backprop_nb' not in source   # written for PyTorch
    with torch_draws_from_numpy(): theirs = run(source, str(script))
    mine = run(ours(source), str(script))
    assert len(theirs.splitlines()) >= 5
    compare(theirs, mine)


def test_comparison_catches_a_difference():
    compare("loss 1.2345 tensor([True, False])\n", "loss 1.2349 Tensor([ True, False], dtype=bool)\n")
    compare("y = 1e-08 + 0.85 x\n", "y = 2e-08 + 0.85 x\n")       # noise beside the line's largest number
    for theirs, mine in [("loss 1.2345\n", "loss 1.2545\n"), ("tensor([True])\n", "Tensor([False])\n"),
                         ("y = 1.0e-03 + 0.85 x\n", "y = 2.0e-03 + 0.85 x\n"),
                         ("epoch 1\n", "epoch 1\nextra\n"), ("Linear(in_features=2)\n", "Linear(out_features=2)\n")]:
        with pytest.raises(AssertionError): compare(theirs, mine)


# --- the layer's semantics, without PyTorch

def test_equality_is_elementwise_and_tensors_stay_hashable():
    a = bt.tensor([2.0, 3.0], requires_grad=True)
    (3 * a ** 3).sum().backward()
    assert (9 * a ** 2 == a.grad).tolist() == [True, True]
    assert (a != a.grad).tolist() == [True, True]
    assert len({a, a * 1, a}) == 2 and {a: 1}[a] == 1
    assert (a == None) is False   # noqa: E711


def test_grad_reads_as_a_tensor_sharing_the_engine_array():
    w = bt.randn(3, 2, requires_grad=True)
    (w * w).sum().backward()
    g = w.grad
    assert isinstance(g, Tensor) and np.allclose(g.data, 2 * w.data)
    assert w.grad.data is Tensor.grad.__get__(w)             # the same array the backward pass wrote
    w.grad.zero_()
    (w * w).sum().backward()
    assert np.allclose(w.grad.data, 2 * w.data)              # accumulated into the zeroed array
    w.grad = bt.zeros(3, 2)
    assert isinstance(Tensor.grad.__get__(w), np.ndarray)    # a tensor assigned is stored as its array


def test_optimizers_step_layer_parameters_as_the_engine_does():
    from backprop_nb import optim as engine_optim
    for make, engine in [(lambda p: bt.optim.Adam(p, lr=0.1), lambda p: engine_optim.Adam(p, lr=0.1)),
                         (lambda p: bt.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                          lambda p: engine_optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True))]:
        w, v = bt.nn.Parameter(bt.tensor([1.0, -2.0])), Tensor([1.0, -2.0], requires_grad=True)
        opt, eopt = make([w]), engine([v])
        for _ in range(3):
            for p, o in ((w, opt), (v, eopt)):
                o.zero_grad(); (p * p * p).sum().backward(); o.step()
        assert np.array_equal(w.data, v.data)


def test_param_groups_read_and_write_the_optimizer():
    opt = bt.optim.SGD([bt.nn.Parameter(bt.zeros(2))], lr=0.5, momentum=0.9)
    (g,) = opt.param_groups
    assert g['lr'] == 0.5 and dict(g)['momentum'] == 0.9
    g['lr'] *= 0.1
    assert math.isclose(opt.lr, 0.05)
    with pytest.raises(KeyError, match="'betas' is not an option of SGD"): g['betas'] = (0.9, 0.99)
    with pytest.raises(ValueError, match="parameter groups"): bt.optim.Adam([{'params': []}])


def test_module_forward_takes_any_arguments_and_prints_a_tree():
    class Scaled(bt.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = bt.nn.Sequential(bt.nn.Linear(2, 2), bt.nn.Tanh())
        def forward(self, x, scale=1.0): return self.body(x) * scale
    m = Scaled()
    x = bt.randn(4, 2)
    assert np.allclose(m(x, scale=2.0).data, 2 * m(x).data)
    assert repr(m).splitlines()[2] == '    (0): Linear(in_features=2, out_features=2, bias=True)'
    assert len(m.parameters()) == 2 and all(isinstance(p, bt.nn.Parameter) for p in m.parameters())
    assert m.eval().body[1].training is False


def test_function_gradient_matches_the_engine_and_errors_name_it():
    class Square(bt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x
        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g
    x = bt.tensor([[0.5, -1.0], [2.0, 3.0]], dtype=bt.float64, requires_grad=True)
    y = Square.apply(x)
    (y * bt.tensor([1.0, 2.0], dtype=bt.float64)).sum().backward()
    assert np.allclose(x.grad.data, 2 * x.data * [1.0, 2.0])
    assert y.grad_fn.name() == 'SquareBackward' and y.grad_fn.next_functions[0][0].variable is x


def test_creation_dtypes_and_devices():
    assert bt.tensor([1, 2]).dtype == np.int64 and bt.tensor([1.0]).dtype == np.float32
    assert bt.arange(3).dtype == np.int64 and bt.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert bt.full((2,), 3).dtype == np.int64 and bt.full((2,), 0.5).dtype == np.float32
    assert bt.zeros(2, 3, dtype=bt.long).dtype == np.int64 and bt.tensor(np.zeros(2)).dtype == np.float64
    assert not bt.cuda.is_available() and str(bt.device('cpu')) == 'cpu'
    with pytest.raises(ValueError, match="device 'cuda' is not available"): bt.randn(2, device='cuda')
    with pytest.raises(ValueError, match="device 'mps' is not available"): bt.ones(2).to('mps')


def test_scripts_run_without_pytorch():
    "The scripts need only numpy and backprop_nb once the import is changed (what chapter 15 shows, two_imports.py)."
    for script in SCRIPTS:
        assert run(ours(script.read_text()), str(script)).strip()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=6), st.integers(-3, 3))
def test_comparisons_agree_with_numpy_elementwise(values, k):
    "==, !=, <, <=, >, >= on tensors give numpy's booleans for arrays, element by element (tensor vs tensor and vs number)."
    a = np.array(values, dtype=np.float32)
    t, u = bt.tensor(a), bt.tensor(a[::-1].copy())
    for op in ('__eq__', '__ne__', '__lt__', '__le__', '__gt__', '__ge__'):
        assert np.array_equal(getattr(t, op)(u).data, getattr(a, op)(a[::-1]))
        assert np.array_equal(getattr(t, op)(k).data, getattr(a, op)(k))
