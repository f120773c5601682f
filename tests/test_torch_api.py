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


# --- issue 16's read-through: code that runs on both prints the same, or ours fails clearly (PyTorch is the oracle)

def _dt(t): return str(t.dtype).replace('torch.', '')


def _net(lib, nn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(2, 3)
            self.plain = lib.ones(3, requires_grad=True)         # a plain tensor attribute: not a parameter
            self.listed = [nn.Linear(3, 3)]                      # a plain list of layers: not registered
            self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3), nn.Tanh()])
            self.scale = nn.Parameter(lib.ones(1))               # own parameter, assigned last: listed first
        def forward(self, x):
            for b in self.blocks: x = b(x)
            return x * self.scale
    return Net()


@needs_torch
def test_module_registers_parameters_as_pytorch_does():
    from oracle import torch
    ours_net, theirs = _net(bt, bt.nn), _net(torch, torch.nn)
    names = [n for n, _ in theirs.named_parameters()]
    assert names[:2] == ['scale', 'hidden.weight']
    assert [n for n, _ in ours_net.named_parameters()] == names
    for net in (ours_net, theirs): net.hidden.weight.requires_grad_(False)   # frozen, still a parameter
    assert [n for n, _ in ours_net.named_parameters()] == [n for n, _ in theirs.named_parameters()] == names
    assert [type(m).__name__ for m in ours_net.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert skeleton_lines(repr(ours_net.blocks)) == skeleton_lines(repr(theirs.blocks))   # (0-1): 2 x Linear(...)
    for lib in (bt, torch):
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU(), lib.nn.Linear(2, 1))
        assert type(seq[:2]).__name__ == 'Sequential' and len(seq[:2]) == 2
    assert skeleton_lines(repr(bt.nn.Sequential(bt.nn.Identity(), bt.nn.ReLU())[:1])) == \
        skeleton_lines(repr(torch.nn.Sequential(torch.nn.Identity(), torch.nn.ReLU())[:1]))


def skeleton_lines(text): return [skeleton(line) for line in text.splitlines()]


@needs_torch
def test_module_to_dtype_converts_and_linear_refuses_mixed_dtypes():
    from oracle import torch
    for lib in (bt, torch):
        m = lib.nn.Linear(2, 1)
        x64 = lib.tensor([[1.0, 2.0]], dtype=lib.float64)
        with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"): m(x64)
        assert m.to(lib.float64) is m and _dt(m.weight) == _dt(m.bias) == 'float64' and _dt(m(x64)) == 'float64'
        m.float(); assert _dt(m.weight) == 'float32'
        m.double(); assert _dt(m.weight) == 'float64'
        with pytest.raises(TypeError): m.to(lib.int64)
    with pytest.raises(TypeError, match="Linear: mat1 and mat2"): bt.nn.Linear(2, 1)(bt.tensor([[1, 2]]))  # ours: a TypeError too


def test_layer_module_does_not_call_builtins_it_rebinds():
    "torch.py binds float, int, bool, sum, max, min, abs at module level (as PyTorch does): no function in it may use Python's."
    import ast, builtins
    tree = ast.parse(Path(bt.__file__).read_text())
    rebound = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.FunctionDef))
               for t in ([n for tg in node.targets for n in ast.walk(tg)] if isinstance(node, ast.Assign) else [ast.Name(node.name)])
               if isinstance(t, ast.Name) and hasattr(builtins, t.id)}
    assert {'float', 'int', 'bool', 'sum', 'max', 'min', 'abs'} <= rebound
    uses = [(f.name, n.id) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
            for n in ast.walk(f) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in rebound
            and n.id not in {a.arg for a in f.args.args + f.args.kwonlyargs}]
    assert not uses, f"functions of backprop_nb.torch call rebound built-ins: {uses}"


@needs_torch
def test_star_import_shadows_only_what_pytorchs_does_and_the_chapter_says_so():
    import builtins
    from oracle import torch
    shadowing = {n for n in bt.__all__ if hasattr(builtins, n)}
    assert shadowing and shadowing <= set(torch.__all__)
    chapter = (Path(__file__).parent.parent / 'nbs' / '14_torch.ipynb').read_text()
    assert 'import *' in chapter and 'unsafe' in chapter


@needs_torch
def test_mse_loss_broadcasts_and_warns_and_the_target_gets_its_gradient():
    from oracle import torch
    results = []
    for lib, F in ((bt, bt.nn.functional), (torch, torch.nn.functional)):
        p = lib.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
        with pytest.warns(UserWarning, match="target size"): loss = lib.nn.MSELoss()(p, lib.tensor([1.0, 2.0, 4.0]))
        loss.backward()
        q = lib.tensor([1.5, 2.0, 2.0], requires_grad=True)
        loss2 = F.mse_loss(lib.tensor([1.0, 2.0, 3.0], requires_grad=True), q, reduction='sum')
        loss2.backward()
        results.append((loss.item(), p.grad.numpy().ravel().tolist(), loss2.item(), q.grad.numpy().tolist()))
    assert np.allclose(results[0][0], 2.3333333) and results[0][0] != pytest.approx(1 / 3)
    for a, b in zip(*results): assert np.allclose(a, b, rtol=1e-6)
    with pytest.raises(ValueError, match="target size"):
        bt.nn.functional.binary_cross_entropy_with_logits(bt.zeros(3, 1), bt.ones(3))
    with pytest.raises(ValueError, match="requires grad"):
        bt.nn.functional.binary_cross_entropy_with_logits(bt.zeros(3), bt.ones(3, requires_grad=True))


@needs_torch
def test_norm_at_zero_and_along_a_dim_as_pytorch():
    from oracle import torch
    got = []
    for lib in (bt, torch):
        z = lib.tensor([0.0, 0.0], requires_grad=True)
        z.norm().backward()
        m = lib.tensor([[3.0, 4.0], [0.0, 0.0], [1.0, -2.0]], requires_grad=True)
        n = m.norm(dim=1)
        (n * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        got.append((z.grad.numpy().tolist(), n.detach().numpy().tolist(), m.grad.numpy().tolist(),
                    m.norm(dim=0, keepdim=True).shape))
    assert got[0][0] == [0.0, 0.0] and not np.isnan(got[0][2]).any()
    for a, b in zip(*got[:2]): assert np.allclose(a, b, rtol=1e-6)
    with pytest.raises(ValueError, match="p=2"): bt.ones(2).norm(p=1)


@needs_torch
def test_small_semantics_match_pytorch():
    from oracle import torch
    for lib in (bt, torch):
        x, p = lib.linspace(0, 1, 3), lib.tensor([1, 2, 3])
        assert _dt(x ** p) == _dt(x.pow(p)) == 'float32'
        with pytest.raises((ValueError, RuntimeError), match=r"t\(\) expects a tensor with <= 2 dimensions"): lib.ones(2, 3, 4).t()
        for fn in (lib.rand_like, lib.randn_like):
            with pytest.raises((TypeError, NotImplementedError)): fn(lib.tensor([1, 2]))
        with pytest.raises((TypeError, NotImplementedError)): lib.randn(2, dtype=lib.long)
        assert _dt(lib.tensor(np.array([1, 2], dtype=np.int32))) == 'int32'
        r = lib.randint(10, (3,))
        assert tuple(r.shape) == (3,) and _dt(r) == 'int64' and 0 <= r.min().item() and r.max().item() < 10
        assert tuple(lib.randint(3, 7, (2, 2)).shape) == (2, 2)
    with pytest.raises(TypeError, match="give dim"): bt.nn.Softmax()
    with pytest.raises(TypeError, match="give dim"): bt.nn.functional.softmax(bt.ones(2, 3, 4))
    lsm = bt.nn.LogSoftmax(dim=1)(bt.tensor([[1.0, 2.0, 0.5]]))
    tl = torch.nn.LogSoftmax(dim=1)(torch.tensor([[1.0, 2.0, 0.5]]))
    assert np.allclose(lsm.numpy(), tl.numpy(), rtol=1e-6)
    target = [1]
    ours_nll = bt.nn.NLLLoss()(lsm, bt.tensor(target)).item()
    assert np.isclose(ours_nll, torch.nn.functional.nll_loss(tl, torch.tensor(target)).item(), rtol=1e-6)


@needs_torch
@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_anomaly_mode_and_gradcheck_work_on_layer_tensors():
    from oracle import torch
    for lib in (bt, torch):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        with lib.autograd.detect_anomaly(): (w * w).sum().backward()
        assert w.grad.numpy().tolist() == [2.0, -4.0]
        x = lib.tensor([-0.7, 0.1, 0.9], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda v: 0.5 * (5 * v ** 3 - 3 * v), (x,)) is True
        assert x.grad is None                                    # the inputs' .grad is left alone

    class Wrong(bt.autograd.Function):
        @staticmethod
        def forward(ctx, v): return v * v
        @staticmethod
        def backward(ctx, g): return g                            # should be 2 v g
    with pytest.raises(ValueError, match="gradients disagree"):
        bt.autograd.gradcheck(Wrong.apply, (bt.tensor([0.5, 2.0], dtype=bt.float64, requires_grad=True),))


@needs_torch
def test_grad_fn_names_match_pytorch_for_common_ops():
    from oracle import torch
    def names(lib):
        F = lib.nn.functional
        x, w, b = (lib.tensor(np.linspace(-1, 1, n).reshape(s).astype(np.float32), requires_grad=True)
                   for n, s in ((12, (4, 3)), (6, (2, 3)), (2, (2,))))
        v = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        ys = [x @ w.T, v @ v, x @ v, F.linear(x, w, b), F.linear(x, w), lib.nn.Linear(3, 2)(x), x.sum(0), x.mean(1),
              x.sum(), x[0], x[:1], x[:, 1], x[0, :2], x.reshape(12), x.view(2, 6), x.flatten(), x.abs().sqrt(), x.max(),
              x.clamp(min=0), F.cross_entropy(x, lib.tensor([0, 1, 2, 0])), x.norm(), x.abs(), x.sin(), v ** 2]
        return [y.grad_fn.name() for y in ys]
    assert names(bt) == names(torch)


@needs_torch
def test_tensor_constructor_takes_sizes_or_data_as_pytorchs():
    from oracle import torch
    for lib in (bt, torch):
        w = lib.Tensor(3, 4)
        assert tuple(w.shape) == (3, 4) and _dt(w) == 'float32'
        p = lib.nn.Parameter(lib.Tensor(2, 3))
        lib.nn.init.kaiming_uniform_(p, a=math.sqrt(5))
        assert tuple(p.shape) == (2, 3) and len(list(p.flatten())) == 6
        assert _dt(lib.Tensor([1, 2])) == 'float32' and lib.Tensor([1, 2]).tolist() == [1.0, 2.0]
        assert lib.Tensor((3, 4)).tolist() == [3.0, 4.0] and tuple(lib.Tensor().shape) == (0,)
        assert all(isinstance(t, lib.Tensor) for t in (lib.tensor([1]), lib.randn(2) * 2, w, p))
    assert isinstance(Tensor([1.0]), bt.Tensor) and Tensor([1.0]).shape == (1,)   # the engine's own constructor unchanged


@needs_torch
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")   # PyTorch's own
def test_state_dict_shares_memory_and_load_copies_in_as_pytorchs():
    from oracle import torch
    for lib in (bt, torch):
        m = lib.nn.Linear(2, 3)
        sd = m.state_dict()
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        m(lib.ones(1, 2)).sum().backward(); opt.step()
        assert np.array_equal(sd['weight'].numpy(), m.weight.detach().numpy())     # the step is seen: live
        assert not sd['weight'].requires_grad and np.array(sd['bias']).tolist() == m.bias.tolist()
        assert not np.shares_memory(np.array(sd['bias']), sd['bias'].numpy())        # np.array copies
        before = m.weight.detach().numpy().copy()
        snap = {k: v.clone() for k, v in sd.items()}
        with lib.no_grad(): m.weight.mul_(0)
        assert repr(m.load_state_dict(snap)) == '<All keys matched successfully>'
        assert np.array_equal(m.weight.detach().numpy(), before) and np.array_equal(sd['weight'].numpy(), before)


@needs_torch
def test_adam_refuses_a_late_parameter_and_its_own_optimizer_gives_pytorchs_numbers():
    from oracle import torch
    def run(lib, split):
        w1, w2 = lib.nn.Parameter(lib.tensor([1.0])), lib.nn.Parameter(lib.tensor([1.0]))
        opt = lib.optim.Adam([w1] if split else [w1, w2], lr=0.1)
        for step in range(4):
            if split and step == 2: opt2 = lib.optim.Adam([w2], lr=0.1)
            opt.zero_grad(); w2.grad = None
            loss = (w1 * w1).sum() + ((w2 * w2).sum() if step >= 2 else 0)
            loss.backward(); opt.step()
            if split and step >= 2: opt2.step()
        return w1.item(), w2.item()
    theirs = run(torch, False)
    assert theirs == pytest.approx(run(torch, True), rel=1e-6) and theirs[1] == pytest.approx(0.9 - 0.1 * 1, abs=0.02)
    with pytest.raises(ValueError, match="own optimizer"): run(bt, False)
    assert run(bt, True) == pytest.approx(theirs, rel=1e-6)
    ends = []
    for lib in (bt, torch):                     # a frozen parameter (never a gradient) is accepted: counts agree
        w, f = lib.nn.Parameter(lib.tensor([1.0])), lib.nn.Parameter(lib.tensor([1.0]), requires_grad=False)
        opt = lib.optim.Adam([w, f], lr=0.1)
        for _ in range(3): opt.zero_grad(); (w * w).sum().backward(); opt.step()
        ends.append(w.item())
    assert ends[0] == pytest.approx(ends[1], rel=1e-6)


@needs_torch
def test_integer_and_mixed_arithmetic_gives_pytorchs_dtypes():
    from oracle import torch
    def dtypes(lib):
        i, f = lib.tensor([1, 2, 3]), lib.tensor([0.5, 1.0, 2.0])
        ys = [i / 2, lib.arange(5) * 0.1, f * i, i * f, 2 / i, i / i, i + 1, i * 2, 1.5 + i, f * lib.tensor(2)]
        return [_dt(y) for y in ys], [y.tolist() for y in ys]
    (ours_dt, ours_v), (their_dt, their_v) = dtypes(bt), dtypes(torch)
    assert ours_dt == their_dt
    for a, b in zip(ours_v, their_v): assert np.allclose(a, b, rtol=1e-6)
    for lib in (bt, torch):
        with pytest.raises((TypeError, RuntimeError), match="mean"): lib.tensor([1, 2, 3]).mean()
        assert lib.tensor([1, 2, 3]).float().mean().item() == 2.0
    w = bt.ones(3, requires_grad=True)
    (w * bt.tensor([1, 2, 3])).sum().backward()
    assert _dt(w.grad) == 'float32' and w.grad.tolist() == [1.0, 2.0, 3.0]


@needs_torch
def test_one_element_tensors_index_convert_and_format_as_pytorchs():
    from oracle import torch
    def printed(lib):
        loss, pred = lib.tensor(0.123456), lib.tensor([0.1, 0.7, 0.2])
        return (['cat', 'dog', 'bird'][pred.argmax(0)], f"{loss:.4f}", f"{loss}", int(lib.tensor([2.7])),
                float(lib.tensor([2.5])), list(range(lib.tensor(3))), int(lib.tensor(-2.5)))
    assert printed(bt) == printed(torch)
    for lib in (bt, torch):
        with pytest.raises(TypeError): [1, 2][lib.tensor(1.0)]
        with pytest.raises(TypeError): f"{lib.tensor([1.0, 2.0]):.2f}"
        with pytest.raises((ValueError, RuntimeError)): int(lib.tensor([1.0, 2.0]))


@needs_torch
def test_old_style_data_update_runs_in_place_and_bad_data_is_refused_at_once():
    from oracle import torch
    def train(lib):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        for _ in range(3):
            (w * w * w).sum().backward()
            w.data -= 0.1 * w.grad
            w.grad.zero_()
        return w.tolist()
    assert train(bt) == pytest.approx(train(torch), rel=1e-6)
    for lib in (bt, torch):
        w = lib.nn.Linear(2, 1).weight
        with pytest.raises(TypeError): w.data = [[1.0, 2.0]]
        w.data = lib.tensor([[3.0, 4.0]])
        assert w.tolist() == [[3.0, 4.0]]
    w = bt.tensor([1.0], requires_grad=True); (w * w).sum().backward()
    with pytest.raises(AttributeError, match=r"w\.grad\.data"): w.grad.fill(0)


@needs_torch
def test_sequential_edits_and_init_fillers_as_pytorchs():
    from oracle import torch
    def build(lib):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        seq[1] = nn.Tanh(); seq.append(nn.Linear(3, 1)); seq.add_module('out', nn.Sigmoid())
        for p in seq.parameters(): nn.init.constant_(p, 0.25)
        nn.init.zeros_(seq[2].bias); nn.init.ones_(seq[0].bias)
        w = nn.init.normal_(lib.Tensor(200, 50), mean=1.0, std=0.5)
        assert abs(w.mean().item() - 1.0) < 0.02 and abs(w.std().item() - 0.5) < 0.02 if lib is torch else \
            abs(w.mean().item() - 1.0) < 0.02 and abs(float(np.std(w.numpy())) - 0.5) < 0.02
        y = seq(lib.tensor([[1.0, -2.0]]))
        return [type(m).__name__ for m in seq], [k for k, _ in seq.named_parameters()], y.tolist()
    ours_b, theirs_b = build(bt), build(torch)
    assert ours_b[:2] == theirs_b[:2] and np.allclose(ours_b[2], theirs_b[2], rtol=1e-6)
    with pytest.raises(IndexError): bt.nn.Sequential(bt.nn.ReLU())[3] = bt.nn.ReLU()


@needs_torch
def test_what_chapter_14_lists_as_missing_runs_on_pytorch_and_fails_here():
    from oracle import torch
    def attempts(lib):
        nn, F = lib.nn, lib.nn.functional
        m = nn.Linear(2, 2); opt = lib.optim.SGD(m.parameters(), lr=0.1)
        x, t = lib.ones(3, 2), lib.tensor([0, 1, 1])
        return [lambda: lib.optim.lr_scheduler.StepLR, lambda: opt.add_param_group, lambda: opt.zero_grad(set_to_none=True),
                lambda: nn.utils.clip_grad_norm_, lambda: m.register_buffer, lambda: nn.BCELoss, lambda: nn.L1Loss,
                lambda: F.one_hot, lambda: F.cross_entropy(x, t, reduction='none'),
                lambda: F.cross_entropy(x, t, weight=lib.ones(2)), lambda: F.cross_entropy(x, t, ignore_index=0),
                lambda: F.cross_entropy(x, t, label_smoothing=0.1), lambda: x.std(), lambda: x.contiguous(),
                lambda: x.retain_grad, lambda: lib.empty(2), lambda: lib.Size]
    for f in attempts(torch): f()
    for f in attempts(bt):
        with pytest.raises((AttributeError, TypeError, ValueError)): f()
    for lib in (bt, torch):     # "Try this": PyTorch's last node of cross_entropy is our single fused node's name
        loss = lib.nn.functional.cross_entropy(lib.ones(3, 2, requires_grad=True), lib.tensor([0, 1, 1]))
        assert loss.grad_fn.name() == 'NllLossBackward0'
