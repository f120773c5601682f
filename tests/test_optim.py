"Optimizers and schedules: PyTorch's update rules and schedule formulas, on Value and array parameters."
import inspect, math, re
import numpy as np
import pytest
from oracle import torch, needs_torch
from hypothesis import given, settings, strategies as st

from backprop_nb.autograd import Value
from backprop_nb.tensor import Tensor
from backprop_nb.optim import (SGD, Adam, AdamW, constant_lr, step_lr, exponential_lr, linear_lr, cosine_lr,
                               one_cycle_lr, get_schedule, plot_schedules, SCHEDULES)

class ArrayParam:
    "Stands in for a tensor parameter: array .data and .grad."
    def __init__(self, a): self.data = np.array(a, dtype=np.float64); self.grad = np.zeros_like(self.data); self.requires_grad = True

def loss_grad(w, target):  # gradient of a bumpy function, so updates differ step to step
    return 2 * (w - target) + np.cos(3 * w)

def run_ours(make, w0, target, steps, kind):
    if kind == 'value':
        ps = [Value(float(v)) for v in w0]
    else:
        ps = [ArrayParam(w0) if kind == 'array' else Tensor(np.array(w0), requires_grad=True)]
        if kind == 'tensor': ps[0].grad = np.zeros_like(ps[0].data)
        arr = ps[0].data
    opt = make(ps)
    for _ in range(steps):
        w = np.array([p.data for p in ps]) if kind == 'value' else ps[0].data
        g = loss_grad(w, target)
        if kind == 'value':
            for p, gi in zip(ps, g): p.grad = float(gi)
        else: ps[0].grad[...] = g
        opt.step()
    if kind != 'value': assert ps[0].data is arr   # updated in place
    return np.array([p.data for p in ps]) if kind == 'value' else ps[0].data.copy()

def run_torch(make, w0, target, steps):
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = make([w])
    for _ in range(steps):
        w.grad = torch.tensor(loss_grad(w.detach().numpy(), target))
        opt.step()
    return w.detach().numpy()

CONFIGS = [
    (lambda ps: SGD(ps), lambda ps: torch.optim.SGD(ps, lr=0.001)),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
    (lambda ps: SGD(ps, lr=0.05, momentum=0.8, nesterov=True), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    (lambda ps: SGD(ps, lr=0.1, weight_decay=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.1)),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.01, nesterov=True),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.01, nesterov=True)),
    (lambda ps: Adam(ps), lambda ps: torch.optim.Adam(ps)),
    (lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
     lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (lambda ps: AdamW(ps, lr=0.05), lambda ps: torch.optim.AdamW(ps, lr=0.05)),
    (lambda ps: AdamW(ps, lr=0.1, weight_decay=0.5, betas=(0.5, 0.9)), lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.5, betas=(0.5, 0.9))),
]

@pytest.mark.parametrize('kind', ['value', 'array', 'tensor'])
@pytest.mark.parametrize('i', range(len(CONFIGS)))
def test_matches_torch(i, kind):
    ours, theirs = CONFIGS[i]
    rng = np.random.default_rng(i)
    w0, target = rng.normal(size=5), rng.normal(size=5)
    np.testing.assert_allclose(run_ours(ours, w0, target, 30, kind), run_torch(theirs, w0, target, 30), rtol=1e-11, atol=1e-13)

@settings(max_examples=30, deadline=None)
@given(st.floats(0, 1), st.floats(0, 0.99), st.floats(0, 0.1), st.booleans(), st.integers(0, 1000))
def test_sgd_matches_torch_for_any_options(lr, momentum, wd, nesterov, seed):
    nesterov = nesterov and momentum > 0
    rng = np.random.default_rng(seed)
    w0, target = rng.normal(size=3), rng.normal(size=3)
    a = run_ours(lambda ps: SGD(ps, lr=lr, momentum=momentum, weight_decay=wd, nesterov=nesterov), w0, target, 10, 'value')
    b = run_torch(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, weight_decay=wd, nesterov=nesterov), w0, target, 10)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)

def test_plain_sgd_is_exactly_the_seeds_rule():
    ps = [Value(0.3), Value(-1.7)]
    ps[0].grad, ps[1].grad = 0.25, -3.0
    SGD(ps, lr=0.001).step()
    assert [p.data for p in ps] == [0.3 - 0.001 * 0.25, -1.7 - 0.001 * -3.0]

def test_params_without_gradient_are_skipped_and_lr_can_change():
    a, b = ArrayParam([1.0]), ArrayParam([2.0]); b.grad = None
    a.grad[:] = 1.0
    opt = Adam([a, b], lr=0.1)
    opt.step(); opt.lr = 0.0; before = a.data.copy(); opt.step()
    assert b.data[0] == 2.0 and a.data[0] < 1.0 and np.array_equal(a.data, before)

def test_zero_grad():
    v, a = Value(1.0), ArrayParam([1.0, 2.0])
    v.grad, g = 5.0, a.grad; g[:] = 3.0
    SGD([v, a]).zero_grad()
    assert v.grad == 0.0 and a.grad is None

def test_float32_arrays_stay_float32():
    p = ArrayParam([1.0, 2.0]); p.data = p.data.astype(np.float32); p.grad = np.ones(2, np.float32)
    for opt in (SGD([p], lr=0.1, momentum=0.9), Adam([p]), AdamW([p])):
        opt.step(); assert p.data.dtype == np.float32

@pytest.mark.parametrize('call,exc,msg', [
    (lambda: SGD([]), ValueError, 'empty parameter list'),
    (lambda: SGD(iter([])), ValueError, 'empty parameter list'),
    (lambda: SGD([3.0]), TypeError, 'parameter 0 must have .data and .grad'),
    (lambda: SGD([Value(1.0)], lr='fast'), TypeError, 'lr must be a number'),
    (lambda: SGD([Value(1.0)], lr=float('nan')), ValueError, 'lr must be in'),
    (lambda: SGD([Value(1.0)], momentum=-0.1), ValueError, 'momentum must be in'),
    (lambda: SGD([Value(1.0)], nesterov=True), ValueError, 'needs a momentum'),
    (lambda: Adam([Value(1.0)], betas=0.9), TypeError, 'betas must be a pair'),
    (lambda: Adam([Value(1.0)], betas=(1.0, 0.9)), ValueError, r'betas\[0\] must be in \[0.0, 1.0\)'),
    (lambda: AdamW([Value(1.0)], eps=-1), ValueError, 'eps must be in'),
])
def test_errors(call, exc, msg):
    with pytest.raises(exc, match=msg): call()

def test_repr():
    assert repr(SGD([Value(1.0)], lr=0.1)) == 'SGD(1 parameters, lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False)'
    assert repr(AdamW([Value(1.0)])).startswith('AdamW(1 parameters, lr=0.001, betas=(0.9, 0.999)')

# ---------------------------------------------------------------- schedules
def torch_lrs(make_sched, lr, steps):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make_sched(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]['lr']); opt.step(); sched.step()
    return out

S = torch.optim.lr_scheduler
@pytest.mark.parametrize('ours,theirs,lr,T', [
    (constant_lr(0.1), lambda o: S.ConstantLR(o, factor=1.0, total_iters=0), 0.1, 20),
    (step_lr(0.5, 7, 0.3), lambda o: S.StepLR(o, 7, gamma=0.3), 0.5, 40),
    (exponential_lr(0.2, 0.9), lambda o: S.ExponentialLR(o, 0.9), 0.2, 40),
    (cosine_lr(0.3, 50, min_lr=0.01), lambda o: S.CosineAnnealingLR(o, 50, eta_min=0.01), 0.3, 51),
    (linear_lr(0.4, 30, end_lr=0.1), lambda o: S.LinearLR(o, 1.0, 0.25, total_iters=30), 0.4, 45),
    (one_cycle_lr(0.8, 100), lambda o: S.OneCycleLR(o, 0.8, total_steps=100, pct_start=0.25, cycle_momentum=False), 0.8, 100),
    (one_cycle_lr(1.0, 37, pct_start=0.4, div_factor=10, final_div_factor=100),
     lambda o: S.OneCycleLR(o, 1.0, total_steps=37, pct_start=0.4, div_factor=10, final_div_factor=100, cycle_momentum=False), 1.0, 37),
])
def test_schedules_match_torch(ours, theirs, lr, T):
    np.testing.assert_allclose([ours(t) for t in range(T)], torch_lrs(theirs, lr, T), rtol=1e-9, atol=1e-15)

def test_micrograd_demo_schedule_bit_for_bit():
    s = linear_lr(1.0, 100, end_lr=0.1)
    assert [s(k) for k in range(100)] == [1.0 - 0.9 * k / 100 for k in range(100)]

@settings(max_examples=50, deadline=None)
@given(st.sampled_from(SCHEDULES), st.floats(1e-4, 10), st.integers(1, 500))
def test_every_named_schedule_decays_and_stays_positive(name, lr, T):
    s = get_schedule(name, lr, T)
    vals = [s(t) for t in range(max(T, 8) + 5)]   # one-cycle needs at least 8 steps
    assert all(v >= 0 and math.isfinite(v) for v in vals)
    assert max(vals) <= lr * (1 + 1e-12)
    assert vals[-1] <= vals[0] or name == 'onecycle'
    if name not in ('step', 'exponential'):   # these keep decaying, as in PyTorch
        assert vals[-1] == s(10 * T + 10)    # the others hold their final value after the end
    assert repr(s).startswith(s.name + '(')

def test_schedule_errors():
    with pytest.raises(ValueError, match='unknown schedule'): get_schedule('warmup', 0.1, 10)
    with pytest.raises(TypeError, match='step must be an int'): constant_lr(0.1)(1.5)
    with pytest.raises(ValueError, match='constant_lr: step must be at least 0, got -1'): constant_lr(0.1)(-1)  # was 'step must be >= 0'
    with pytest.raises(TypeError, match='step must be an integer, got bool'): constant_lr(0.1)(True)
    with pytest.raises(TypeError, match='step_lr: step_size must be an integer, got float'): step_lr(0.1, 2.0)
    with pytest.raises(ValueError, match=re.escape('one_cycle_lr: pct_start must be in [0.0, 1.0], got 1.5')): one_cycle_lr(0.1, 10, pct_start=1.5)
    with pytest.raises(ValueError, match=re.escape('cosine_lr: min_lr must be in [0.0, inf), got inf')): cosine_lr(0.1, 10, min_lr=math.inf)
    with pytest.raises(TypeError, match='exponential_lr: gamma must be a number, got str'): exponential_lr(0.1, '0.9')
    with pytest.raises(ValueError, match='total_steps must be at least 1'): cosine_lr(0.1, 0)
    with pytest.raises(ValueError, match='leaves no room'): one_cycle_lr(0.1, 3, pct_start=0.1)
    with pytest.raises(ValueError, match='lr must be in'): linear_lr(-0.1, 10)

def test_plot_schedules():
    fig = plot_schedules([get_schedule(n, 0.1, 50) for n in SCHEDULES], 50)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 6 and len(lines[0].get_xdata()) == 50
    assert len(plot_schedules(cosine_lr(0.1, 10), 10).axes[0].get_lines()) == 1

# ---------------------------------------------------------------- where our schedules and PyTorch's differ (chapter 4 says so)
def test_linear_lr_is_torch_linearlr_with_factors_whose_defaults_warm_up():
    ours = linear_lr(0.4, 30, end_lr=0.1)
    theirs = torch_lrs(lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1 / 0.4, total_iters=30), 0.4, 45)
    np.testing.assert_allclose([ours(t) for t in range(45)], theirs, rtol=1e-9, atol=1e-15)
    default = torch_lrs(lambda o: S.LinearLR(o), 0.3, 10)         # start_factor=1/3, end_factor=1.0, total_iters=5
    assert default[0] == pytest.approx(0.1) and default[-1] == pytest.approx(0.3) and default[0] < default[-1]

def test_torch_constantlr_is_a_temporary_factor_not_our_constant():
    theirs = torch_lrs(lambda o: S.ConstantLR(o), 0.3, 8)           # factor=1/3 for total_iters=5 steps, then the lr
    np.testing.assert_allclose(theirs, [0.1] * 5 + [0.3] * 3, rtol=1e-12)
    assert [constant_lr(0.3)(t) for t in range(8)] == [0.3] * 8

def test_cosine_matches_torch_up_to_total_steps_then_holds():
    ours, theirs = cosine_lr(0.3, 20, min_lr=0.01), torch_lrs(lambda o: S.CosineAnnealingLR(o, 20, eta_min=0.01), 0.3, 30)
    np.testing.assert_allclose([ours(t) for t in range(21)], theirs[:21], rtol=1e-9, atol=1e-15)
    assert theirs[-1] > theirs[20] + 0.01                           # PyTorch's cosine rises again past T_max ...
    assert [ours(t) for t in range(20, 30)] == [0.01] * 10           # ... ours keeps min_lr

@needs_torch
def test_one_cycle_pct_start_default_differs_from_torch():
    assert inspect.signature(one_cycle_lr).parameters['pct_start'].default == 0.25
    assert inspect.signature(S.OneCycleLR).parameters['pct_start'].default == 0.3
    ours = one_cycle_lr(0.8, 50, pct_start=0.3)                      # the same when told the same
    theirs = torch_lrs(lambda o: S.OneCycleLR(o, 0.8, total_steps=50, cycle_momentum=False), 0.8, 50)
    np.testing.assert_allclose([ours(t) for t in range(50)], theirs, rtol=1e-9, atol=1e-15)
    assert not np.allclose([one_cycle_lr(0.8, 50)(t) for t in range(50)], theirs)   # but not by default
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.8)
    sched = S.OneCycleLR(opt, 0.8, total_steps=5, cycle_momentum=False)
    for _ in range(5): opt.step(); sched.step()
    with pytest.raises(ValueError, match='total steps'): opt.step(); sched.step()   # PyTorch refuses to go past total_steps ...
    assert one_cycle_lr(0.8, 8)(100) == one_cycle_lr(0.8, 8)(7)      # ... ours holds its final value

# ---------------------------------------------------------------- state_dict / load_state_dict (issue 11, D14)
OPTS = [(lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
        (lambda ps: Adam(ps, lr=0.1), lambda ps: torch.optim.Adam(ps, lr=0.1)),
        (lambda ps: AdamW(ps, lr=0.1), lambda ps: torch.optim.AdamW(ps, lr=0.1))]

def _steps(opt, ps, target, n):
    for _ in range(n):
        for p in ps:
            g = loss_grad(p.data, target)
            p.grad = float(g) if isinstance(p, Value) else g
        opt.step()

@pytest.mark.parametrize('ours,theirs', OPTS)
def test_state_dict_uses_pytorch_names(ours, theirs):
    w = torch.zeros(3, requires_grad=True)
    t = theirs([w]); w.grad = torch.ones(3); t.step()
    ps = [ArrayParam(np.zeros(3))]
    o = ours(ps); _steps(o, ps, 1.0, 1)
    mine, ref = o.state_dict(), t.state_dict()
    assert set(mine) == set(ref) == {'state', 'param_groups'}
    buffers = set(ref['state'][0]) - {'step'}
    assert buffers <= set(mine['state'][0]) and mine['state'][0]['step'] == 1
    assert mine['param_groups'][0]['params'] == ref['param_groups'][0]['params'] == [0]
    assert {'lr', 'weight_decay'} <= set(mine['param_groups'][0])

@pytest.mark.parametrize('kind', ['value', 'array'])
@pytest.mark.parametrize('ours,_', OPTS)
def test_load_state_dict_resumes_exactly(ours, _, kind):
    "3 steps, save, 2 more steps, load: the next 3 steps equal an uninterrupted run's steps 4..6."
    def params(): return [Value(0.5), Value(-1.0)] if kind == 'value' else [ArrayParam([0.5, -1.0]), ArrayParam([[2.0]])]
    ref_ps = params(); ref = ours(ref_ps); _steps(ref, ref_ps, 1.0, 6)
    ps = params(); o = ours(ps); _steps(o, ps, 1.0, 3)
    sd, saved = o.state_dict(), [np.copy(p.data) for p in ps]
    _steps(o, ps, -5.0, 2)
    o.load_state_dict(sd)
    for p, d in zip(ps, saved):
        if kind == 'value': p.data = float(d)
        else: p.data[...] = d
    assert o.steps == 3
    _steps(o, ps, 1.0, 3)
    assert o.steps == 6
    for a, b in zip(ps, ref_ps): np.testing.assert_array_equal(a.data, b.data)

def test_load_state_dict_refuses_and_changes_nothing():
    ps = [ArrayParam([0.5, -1.0])]
    o = Adam(ps, lr=0.1); _steps(o, ps, 1.0, 2)
    before = o.state_dict()
    bad = {'state': {0: {'step': 2, 'exp_avg': np.zeros(5), 'exp_avg_sq': np.zeros(2)}}, 'param_groups': before['param_groups']}
    with pytest.raises(ValueError, match=r'exp_avg of parameter 0 has shape \(5,\)'): o.load_state_dict(bad)
    with pytest.raises(ValueError, match='for 2 parameters, this optimizer has 1'):
        o.load_state_dict({'state': {}, 'param_groups': [{**before['param_groups'][0], 'params': [0, 1]}]})
    with pytest.raises(TypeError, match='param_groups'): o.load_state_dict([1, 2])
    with pytest.raises(ValueError, match='settings'): SGD(ps).load_state_dict(before)
    assert o.steps == 2 and o.state_dict()['state'][0]['exp_avg'] is before['state'][0]['exp_avg']

@pytest.mark.parametrize('make, change, error, said', [
    (lambda ps: Adam(ps, lr=0.1), {'lr': -1.0}, ValueError, 'lr must be'),
    (lambda ps: Adam(ps, lr=0.1), {'lr': float('nan')}, ValueError, 'lr must be'),
    (lambda ps: Adam(ps, lr=0.1), {'lr': 'abc'}, TypeError, 'lr must be a number'),
    (lambda ps: Adam(ps, lr=0.1), {'lr': None}, TypeError, 'lr must be a number'),
    (lambda ps: Adam(ps, lr=0.1), {'betas': (2, 3)}, ValueError, r'betas\[0\]'),
    (lambda ps: Adam(ps, lr=0.1), {'eps': -1e-8}, ValueError, 'eps'),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9), {'momentum': -3}, ValueError, 'momentum'),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9), {'weight_decay': float('inf')}, ValueError, 'weight_decay')])
def test_load_state_dict_refuses_bad_settings_and_changes_nothing(make, change, error, said):   # prober
    ps = [ArrayParam([0.5, -1.0])]
    o = make(ps); _steps(o, ps, 1.0, 2)
    before, settings = o.state_dict(), dict(o._settings())
    bad = {'state': before['state'], 'param_groups': [{**before['param_groups'][0], **change}]}
    with pytest.raises(error, match=f'load_state_dict.*{said}'): o.load_state_dict(bad)
    assert o._settings() == settings and o.steps == 2

@pytest.mark.parametrize('state, error, said', [
    ({0: {'step': -5}}, ValueError, 'step must be at least 0'),
    ({0: {'step': 1.5}}, TypeError, 'step must be an integer'),
    ({0: 5}, TypeError, "'state' must map parameter numbers to dicts"),
    ([1, 2], TypeError, "'state' must map")])
def test_load_state_dict_refuses_bad_steps_and_buffers(state, error, said):   # prober: accepted, or crashed later
    ps = [ArrayParam([0.5, -1.0])]
    o = SGD(ps, lr=0.1, momentum=0.9); _steps(o, ps, 1.0, 2)
    before = o.state_dict()
    with pytest.raises(error, match=said): o.load_state_dict({'state': state, 'param_groups': before['param_groups']})
    assert o.steps == 2 and o.state_dict()['state'][0]['momentum_buffer'] is before['state'][0]['momentum_buffer']
