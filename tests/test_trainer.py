"Trainer: the loop, History, callbacks, and the failure paths (non-finite numbers, Ctrl-C)."
import io, json, math, random, warnings
import numpy as np
import pytest

from backprop_nb.autograd import Value
from backprop_nb.nn import MLP
from backprop_nb.losses import hinge_loss, cross_entropy
from backprop_nb.optim import SGD, cosine_lr
from backprop_nb.data import make_moons, make_blobs, DataLoader, train_valid_split
from backprop_nb.trainer import (Trainer, History, Callback, ProgressBar, LRSchedule, EarlyStopping, MetricLogger,
                                 accuracy, to_numpy)

X, Y = make_moons(60, noise=0.1, seed=0)
(XT, YT), (XV, YV) = train_valid_split(X, Y, 0.25, seed=0)   # 45 train (3 batches of 16), 15 valid

def make(callbacks=(), loss=hinge_loss, lr=0.1, seed=0, hidden=(8,), opt=None, valid=True):
    random.seed(seed)
    model = MLP(2, [*hidden, 1])
    opt = opt(model) if opt else SGD(model.parameters(), lr=lr, momentum=0.9)
    return Trainer(model, loss, opt, DataLoader(XT, YT, 16, seed=seed), valid=(XV, YV) if valid else None,
                   callbacks=list(callbacks))

class Snapshots(Callback):
    "The parameters at the start of every step."
    def __init__(self): self.at = {}
    def on_step_start(self, t): self.at[t.step] = t.model.state_dict()

def same(sd1, sd2): return sd1.keys() == sd2.keys() and all(np.array_equal(sd1[k], sd2[k]) for k in sd1)

def finite_params(model): return all(np.isfinite(p.data).all() for p in model.parameters())

# ---------------------------------------------------------------- the normal path
def test_fit_records_history():
    t = make()
    h = t.fit(4)
    assert h.stopped_reason == 'completed' and not h.interrupted and h.stopped_step is None
    assert len(h.steps['loss']) == len(h.steps['acc']) == len(h.steps['lr']) == 12
    assert h.epochs['epoch'] == [1, 2, 3, 4] and h.epochs['step'] == [3, 6, 9, 12]
    assert set(h.epochs) == {'epoch', 'step', 'train_loss', 'train_acc', 'valid_loss', 'valid_acc', 'time'}
    # the epoch's train loss is the batch-size-weighted mean of its steps (16, 16, 13 samples)
    w = np.array([16, 16, 13])
    assert h.epochs['train_loss'][0] == pytest.approx((np.array(h.steps['loss'][:3]) * w).sum() / 45)
    assert h.epochs['valid_loss'][-1] == pytest.approx(t.evaluate(XV, YV)['loss'])
    assert t.step == 12 and t.epoch == 4

def test_training_learns():
    t = make(hidden=(16, 16))
    h = t.fit(30)
    assert h.epochs['train_loss'][-1] < 0.5 * h.epochs['train_loss'][0]
    assert t.evaluate(XT, YT)['acc'] >= 0.9

def test_fit_continues_and_is_reproducible():
    a, b = make(), make()
    a.fit(2); a.fit(1)
    b.fit(3)
    assert a.step == b.step == 9 and a.history.epochs['epoch'] == [1, 2, 3]
    assert same(a.model.state_dict(), b.model.state_dict())

def test_multiclass_training():
    Xb, yb = make_blobs(60, seed=1)
    random.seed(0); model = MLP(2, [8, 3])
    t = Trainer(model, cross_entropy, SGD(model.parameters(), lr=0.1), DataLoader(Xb, yb, 16), valid=(Xb, yb))
    h = t.fit(5)
    assert h.epochs['valid_acc'][-1] > 0.8

# ---------------------------------------------------------------- non-finite numbers
def nan_loss_at(k, loss_fn=hinge_loss):
    calls = [0]
    def f(preds, targets):
        out = loss_fn(preds, targets); calls[0] += 1
        return out * float('nan') if calls[0] - 1 == k else out
    return f

@pytest.mark.parametrize('k', [0, 1, 4, 7])
def test_nan_loss_stops_and_restores(k):
    snaps = Snapshots()
    t = make([snaps], loss=nan_loss_at(k), valid=False)        # (evaluation would call the loss too)
    with pytest.warns(RuntimeWarning, match=f"non-finite loss \\(nan\\) at step {k} "):
        h = t.fit(5)
    assert h.stopped_step == k and f"at step {k}" in h.stopped_reason and not h.interrupted
    assert len(h.steps.get('loss', [])) == k                       # steps 0..k-1 happened
    assert h.epochs.get('epoch', []) == list(range(1, k // 3 + 1))  # only whole epochs are logged
    assert same(t.model.state_dict(), snaps.at[max(k - 1, 0)])     # the parameters of the last finite loss
    assert finite_params(t.model)
    assert all(math.isfinite(v) for v in h.steps.get('loss', []))
    json.dumps(h.to_dict(), allow_nan=False)

def test_inf_loss_too():
    def inf_loss(p, y): return hinge_loss(p, y) * float('inf')
    t = make(loss=inf_loss)
    start = t.model.state_dict()
    with pytest.warns(RuntimeWarning, match="non-finite loss \\(inf\\) at step 0"): h = t.fit(2)
    assert same(t.model.state_dict(), start) and h.steps == {}

class PoisonedLoss:
    "A finite loss whose backward leaves a nan in one gradient."
    def __init__(self, loss, param): self.loss, self.param, self.data = loss, param, loss.data
    def backward(self): self.loss.backward(); self.param.grad = float('nan')

def test_nonfinite_gradient_stops_before_the_update():
    snaps = Snapshots()
    holder = {}
    def bad_grad_loss(preds, y):
        out = hinge_loss(preds, y)
        return PoisonedLoss(out, holder['model'].parameters()[0]) if len(snaps.at) == 3 else out
    t = make([snaps], loss=bad_grad_loss, valid=False); holder['model'] = t.model
    with pytest.warns(RuntimeWarning, match="non-finite gradient at step 2"): h = t.fit(3)
    assert h.stopped_step == 2 and len(h.steps['loss']) == 2
    assert same(t.model.state_dict(), snaps.at[2])                # the update of step 2 never happened

class InfStep:
    "An optimizer whose k-th step sends a parameter to infinity."
    def __init__(self, params, k): self.inner, self.k, self.n, self.params = SGD(params, lr=0.05), k, 0, params
    lr = property(lambda s: s.inner.lr, lambda s, v: setattr(s.inner, 'lr', v))
    def zero_grad(self): self.inner.zero_grad()
    def step(self):
        self.inner.step()
        if self.n == self.k: self.params[3].data = math.inf
        self.n += 1

def test_nonfinite_parameters_after_update():
    snaps = Snapshots()
    t = make([snaps], opt=lambda m: InfStep(m.parameters(), 4))
    with pytest.warns(RuntimeWarning, match="non-finite parameters after the update at step 4"): t.fit(3)
    assert same(t.model.state_dict(), snaps.at[4]) and finite_params(t.model)

def test_huge_learning_rate_keeps_a_finite_model():
    t = make(lr=1e300)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        h = t.fit(5)
    assert h.stopped_step is not None and 'non-finite' in h.stopped_reason
    assert finite_params(t.model) and math.isfinite(t.evaluate(XT, YT)['loss'])

# ---------------------------------------------------------------- Ctrl-C
class InterruptAt(Callback):
    def __init__(self, k, hook='on_step_start'): self.k, self.hook = k, hook
    def _maybe(self, t):
        if t.step == self.k: raise KeyboardInterrupt
    def on_step_start(self, t):
        if self.hook == 'on_step_start': self._maybe(t)
    def on_step_end(self, t):
        if self.hook == 'on_step_end': self._maybe(t)

@pytest.mark.parametrize('k', [0, 2, 5])
def test_keyboard_interrupt_keeps_what_was_learned(k):
    snaps = Snapshots()
    t = make([snaps, InterruptAt(k)])
    h = t.fit(10)                                    # returns normally
    assert h.interrupted and h.stopped_step == k and 'interrupted' in h.stopped_reason
    assert len(h.steps.get('loss', [])) == k
    assert same(t.model.state_dict(), snaps.at[k])   # everything steps 0..k-1 learned is kept
    assert h.epochs.get('epoch', []) == list(range(1, k // 3 + 1))

def test_interrupt_after_update_keeps_that_update():
    snaps = Snapshots()
    t = make([snaps, InterruptAt(4, 'on_step_end')])
    h = t.fit(10)
    assert h.interrupted and len(h.steps['loss']) == 5       # step 4 was logged before its callbacks ran
    assert not same(t.model.state_dict(), snaps.at[4])       # and its update is kept

class HalfStep:
    "An optimizer interrupted halfway through its update."
    def __init__(self, params, k): self.inner, self.k, self.n, self.params = SGD(params, lr=0.5), k, 0, params
    lr = property(lambda s: s.inner.lr, lambda s, v: setattr(s.inner, 'lr', v))
    def zero_grad(self): self.inner.zero_grad()
    def step(self):
        if self.n == self.k:
            for p in self.params[:5]: p.data += 1.0
            raise KeyboardInterrupt
        self.n += 1
        self.inner.step()

def test_interrupt_inside_the_update_restores_the_whole_step():
    snaps = Snapshots()
    t = make([snaps], opt=lambda m: HalfStep(m.parameters(), 3))
    h = t.fit(5)
    assert h.interrupted and h.stopped_step == 3
    assert same(t.model.state_dict(), snaps.at[3])            # no half-applied update

def test_progress_bar_closed_after_interrupt():
    bar = ProgressBar(disable=False, file=io.StringIO())
    t = make([bar, InterruptAt(2)])
    t.fit(3)
    assert bar.bar.disable or bar.bar.n == 2
    assert bar.bar.fp is not None and '2/9' in bar.file.getvalue()

# ---------------------------------------------------------------- callbacks
def test_schedule_sets_lr_every_step():
    sched = cosine_lr(0.1, 9)
    h = make([LRSchedule(sched)]).fit(3)
    assert h.steps['lr'] == pytest.approx([sched(i) for i in range(9)])
    with pytest.raises(TypeError, match='schedule must be callable'): LRSchedule(0.1)

def test_early_stopping_restores_best():
    class Record(Callback):
        def __init__(self): self.states = []
        def on_epoch_end(self, t): self.states.append(t.model.state_dict())
    rec, es = Record(), EarlyStopping(patience=2)
    t = make([rec, es], lr=0.5)                                  # a large lr: the valid loss bounces about
    h = t.fit(60)
    if h.stopped_reason.startswith('early stopping'):
        best = int(np.argmin(h.epochs['valid_loss']))
        assert es.best_epoch == best + 1 and len(h.epochs['epoch']) == es.best_epoch + 2
        assert same(t.model.state_dict(), rec.states[best])
    else:
        pytest.fail(f"expected early stopping with this seed, got {h.stopped_reason}")

def test_early_stopping_on_a_column_that_never_improves():
    class Flat(Callback):
        def on_epoch_end(self, t): t.history.epochs.setdefault('const', []).append(1.0)
    h = make([Flat(), EarlyStopping('const', patience=3)]).fit(20)
    assert h.epochs['epoch'] == [1, 2, 3, 4] and 'const did not improve for 3 epochs' in h.stopped_reason

def test_early_stopping_needs_its_column():
    with pytest.raises(ValueError, match="no column 'valid_loss'"): make([EarlyStopping()], valid=False).fit(1)

def test_metric_logger_and_progress_bar_output():
    out, err = io.StringIO(), io.StringIO()
    make([ProgressBar(disable=False, file=err), MetricLogger(every=2, file=out)]).fit(5)
    lines = out.getvalue().splitlines()
    assert [l.split()[1] for l in lines] == ['2/5', '4/5', '5/5']
    assert 'valid_acc' in lines[0] and '%' in lines[0]
    assert '15/15' in err.getvalue()

def test_progress_bar_disabled():
    bar = ProgressBar(disable=True)
    make([bar]).fit(1)
    assert bar.bar.disable

def test_stop_from_a_callback():
    class StopAt(Callback):
        def on_step_end(self, t):
            if t.step == 4: t.stop('enough')
    h = make([StopAt()]).fit(5)
    assert h.stopped_reason == 'enough' and len(h.steps['loss']) == 5 and h.stopped_step is None
    assert h.epochs['epoch'] == [1, 2]                           # the partial second epoch is logged

# ---------------------------------------------------------------- History
def test_history_json_roundtrip(tmp_path):
    h = make().fit(2)
    h.save(tmp_path / 'h.json')
    g = History.load(tmp_path / 'h.json')
    assert g.to_dict() == h.to_dict()
    assert repr(g) == 'History(6 steps, 2 epochs, stopped: completed)'

def test_history_writes_strict_json(tmp_path):
    h = History(); History._log(h.epochs, {'valid_loss': float('nan')}); History._log(h.epochs, {'valid_loss': np.float64(2.0)})
    h.save(tmp_path / 'h.json')
    assert json.loads((tmp_path / 'h.json').read_text())['epochs']['valid_loss'] == [None, 2.0]

# ---------------------------------------------------------------- metrics and arguments
def test_accuracy_forms():
    assert accuracy([Value(1.0), Value(-1.0)], np.array([1, 0])) == 1.0
    assert accuracy([Value(1.0), Value(-1.0)], [-1, 1]) == 0.0
    assert accuracy(np.array([[0.3], [-0.2]]), [1, 1]) == 0.5
    assert accuracy([[Value(0.0), Value(2.0)], [Value(3.0), Value(1.0)]], [1, 0]) == 1.0
    with pytest.raises(ValueError, match='2 predictions but 3 targets'): accuracy([Value(1.0)] * 2, [1, 0, 1])
    with pytest.raises(ValueError, match='shape'): accuracy(np.zeros((2, 2, 2)), [0, 1])
    assert to_numpy(Value(2.0)) == 2.0

def test_bad_setup():
    random.seed(0); model = MLP(2, [1]); opt = SGD(model.parameters(), lr=0.1)
    dl = DataLoader(XT, YT, 16)
    with pytest.raises(TypeError, match='model has no forward_batch'): Trainer(object(), hinge_loss, opt, dl)
    with pytest.raises(TypeError, match='opt has no step, zero_grad'): Trainer(model, hinge_loss, None, dl)
    with pytest.raises(TypeError, match='loss_fn must be callable'): Trainer(model, None, opt, dl)
    with pytest.raises(TypeError, match='valid must be a pair'): Trainer(model, hinge_loss, opt, dl, valid=(XV,))
    t = Trainer(model, hinge_loss, opt, dl)
    with pytest.raises(ValueError, match='epochs must be at least 1'): t.fit(0)
    with pytest.raises(TypeError, match='epochs must be an integer'): t.fit(2.0)
    with pytest.raises(ValueError, match='yields no batches'): Trainer(model, hinge_loss, opt, DataLoader(XT[:2], YT[:2], 4, drop_last=True)).fit(1)

# ---------------------------------------------------------------- another engine: numpy arrays as parameters
class ArrayParam:
    "A leaf with array data and grad, as a Tensor parameter will have."
    def __init__(self, a): self.data, self.grad = np.array(a, dtype=float), np.zeros(np.shape(a))

class Out:
    def __init__(self, data): self.data = data

class Linear:
    "y = xW + b with a hand-written backward: only the methods the trainer uses."
    def __init__(self): self.W, self.b = ArrayParam(np.zeros((2, 1))), ArrayParam(np.zeros(1))
    def parameters(self): return [self.W, self.b]
    def state_dict(self): return {'W': self.W.data.copy(), 'b': self.b.data.copy()}
    def load_state_dict(self, sd): self.W.data[...] = sd['W']; self.b.data[...] = sd['b']
    def forward_batch(self, xb):
        out = Out(xb @ self.W.data + self.b.data); out.x = xb; return out

class MSE:
    "Mean squared error node for `Linear`."
    def __init__(self, model, out, y): self.m, self.out, self.y = model, out, np.asarray(y, float).reshape(-1, 1)
    @property
    def data(self):
        with np.errstate(over='ignore', invalid='ignore'): return np.float64(((self.out.data - self.y) ** 2).mean())
    def backward(self):
        g = 2 * (self.out.data - self.y) / len(self.y)
        self.m.W.grad += self.out.x.T @ g; self.m.b.grad += g.sum(0)

class ArraySGD:
    def __init__(self, params, lr): self.params, self.lr = params, lr
    def zero_grad(self):
        for p in self.params: p.grad[...] = 0
    def step(self):
        for p in self.params: p.data -= self.lr * p.grad

def test_array_parameters_work_unchanged():
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(64, 2)); yr = Xr @ np.array([2.0, -1.0]) + 0.5
    m = Linear()
    t = Trainer(m, lambda p, y: MSE(m, p, y), ArraySGD(m.parameters(), 0.1), DataLoader(Xr, yr, 16), metrics={})
    h = t.fit(40)
    assert h.stopped_reason == 'completed' and set(h.steps) == {'loss', 'lr'}
    assert np.allclose(m.W.data.ravel(), [2.0, -1.0], atol=1e-3) and np.allclose(m.b.data, 0.5, atol=1e-3)

def test_array_parameters_nonfinite_restore():
    Xr = np.ones((8, 2)); yr = np.ones(8)
    m = Linear()
    snaps = Snapshots()
    t = Trainer(m, lambda p, y: MSE(m, p, y), ArraySGD(m.parameters(), 1e200), DataLoader(Xr, yr, 4), metrics={}, callbacks=[snaps])
    with pytest.warns(RuntimeWarning, match='non-finite'): h = t.fit(5)
    assert h.stopped_step is not None and np.isfinite(m.W.data).all() and np.isfinite(m.b.data).all()

def test_interrupt_during_evaluation_leaves_no_half_logged_epoch():
    from backprop_nb.autograd import flags
    calls = [0]
    def loss(p, y):
        if not flags.grad_enabled:               # the validation pass of the second epoch
            calls[0] += 1
            if calls[0] == 2: raise KeyboardInterrupt
        return hinge_loss(p, y)
    t = make(loss=loss)
    h = t.fit(5)
    assert h.interrupted and t.epoch == 1 and h.epochs['epoch'] == [1] and len(h.steps['loss']) == 6
    assert all(len(col) == 1 for col in h.epochs.values())

# ---------------------------------------------------------------- the tensor engine (chapter 9) through the same Trainer
from backprop_nb.tensor import Tensor
from backprop_nb import tensor_nn
from backprop_nb.nn import Module
from backprop_nb.optim import Adam

def make_tensor(callbacks=(), loss=tensor_nn.hinge_loss, lr=0.1, seed=0, hidden=(8,), opt=None, valid=True, nout=1, data=(XT, YT, XV, YV)):
    tensor_nn.manual_seed(seed)
    model = tensor_nn.MLP(data[0].shape[1], [*hidden, nout])
    opt = opt(model) if opt else SGD(model.parameters(), lr=lr, momentum=0.9)
    return Trainer(model, loss, opt, DataLoader(data[0], data[1], 16, seed=seed), valid=(data[2], data[3]) if valid else None,
                   callbacks=list(callbacks))

def test_tensor_model_trains_and_logs_plain_floats():
    t = make_tensor(hidden=(16, 16))
    h = t.fit(30)
    assert h.stopped_reason == 'completed' and len(h.steps['loss']) == 90
    assert all(type(v) is float for v in h.steps['loss'] + h.steps['acc'] + h.epochs['valid_loss'])
    assert h.epochs['train_loss'][-1] < 0.5 * h.epochs['train_loss'][0]
    assert t.evaluate(XT, YT)['acc'] >= 0.9
    json.dumps(h.to_dict(), allow_nan=False)

def test_tensor_multiclass_with_cross_entropy_and_adam():
    Xb, yb = make_blobs(90, centers=3, noise=0.4, seed=1)
    (Xt, yt), (Xv, yv) = train_valid_split(Xb, yb, 0.2, seed=0)
    t = make_tensor(loss=tensor_nn.cross_entropy, nout=3, data=(Xt, yt, Xv, yv), opt=lambda m: Adam(m.parameters(), lr=0.05))
    h = t.fit(20)
    assert h.epochs['valid_acc'][-1] >= 0.9
    assert t.evaluate(Xv, yv)['acc'] == pytest.approx(accuracy(t.model.forward_batch(Xv), yv))

def test_tensor_predictions_metrics():
    assert accuracy(Tensor([[0.3], [-1.0], [2.0]]), [1, 0, 0]) == pytest.approx(2 / 3)
    assert accuracy(Tensor([0.3, -1.0, 2.0]), [1, -1, -1]) == pytest.approx(2 / 3)
    assert accuracy(Tensor([[0.1, 0.5, -1.0], [2.0, 0.0, 0.0]]), [1, 2]) == 0.5
    assert to_numpy(Tensor(np.ones((2, 3), dtype=np.float32))).dtype == np.float64

@pytest.mark.parametrize('k', [0, 4])
def test_tensor_nan_loss_stops_and_restores(k):
    snaps = Snapshots()
    t = make_tensor([snaps], loss=nan_loss_at(k, tensor_nn.hinge_loss), valid=False)
    with pytest.warns(RuntimeWarning, match=f"non-finite loss \\(nan\\) at step {k} "):
        h = t.fit(5)
    assert h.stopped_step == k and len(h.steps.get('loss', [])) == k
    assert same(t.model.state_dict(), snaps.at[max(k - 1, 0)]) and finite_params(t.model)

def test_tensor_huge_learning_rate_keeps_a_finite_model():
    t = make_tensor(lr=1e30)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        h = t.fit(20)
    assert h.stopped_step is not None and 'non-finite' in h.stopped_reason
    assert finite_params(t.model) and math.isfinite(t.evaluate(XT, YT)['loss'])
    assert all(p is q for p, q in zip(t.model.parameters(), t.opt.params))   # restored in place: still the optimizer's

@pytest.mark.parametrize('k', [0, 5])
def test_tensor_keyboard_interrupt_keeps_what_was_learned(k):
    snaps = Snapshots()
    t = make_tensor([snaps, InterruptAt(k)])
    h = t.fit(10)
    assert h.interrupted and h.stopped_step == k and len(h.steps.get('loss', [])) == k
    assert same(t.model.state_dict(), snaps.at[k])

def test_tensor_interrupt_inside_the_update_restores_the_whole_step():
    snaps = Snapshots()
    t = make_tensor([snaps], opt=lambda m: HalfStep(m.parameters(), 3))
    h = t.fit(5)
    assert h.interrupted and h.stopped_step == 3
    assert same(t.model.state_dict(), snaps.at[3])

def test_a_module_of_tensor_layers_gets_one_call_per_batch():
    "A Module written by the user from tensor layers: forward_batch passes the whole batch."
    class Net(Module):
        def __init__(self): self.l1, self.act, self.l2 = tensor_nn.Linear(2, 8), tensor_nn.Tanh(), tensor_nn.Linear(8, 1)
        def forward(self, x): return self.l2(self.act(self.l1(x)))
    tensor_nn.manual_seed(0)
    net = Net()
    out = net.forward_batch(XT)
    assert isinstance(out, Tensor) and out.shape == (len(XT), 1)
    h = Trainer(net, tensor_nn.hinge_loss, SGD(net.parameters(), lr=0.1, momentum=0.9), DataLoader(XT, YT, 16)).fit(5)
    assert h.stopped_reason == 'completed'

# ---------------------------------------------------------------- issue 11: D1, D10-D14
import signal, threading
from contextlib import contextmanager

@contextmanager
def deadline(seconds=20):
    "Fail instead of hanging (D1 hung at 100% CPU)."
    def boom(*_): raise TimeoutError(f"still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, boom); signal.alarm(seconds)
    try: yield
    finally: signal.alarm(0); signal.signal(signal.SIGALRM, old)

def test_one_shot_generator_stops_cleanly():
    t = make(valid=False)
    t.train_dl = ((XT[i:i + 16], YT[i:i + 16]) for i in range(0, 45, 16))
    with deadline(), pytest.warns(RuntimeWarning, match='yielded no batches in epoch 2'): h = t.fit(3)
    assert h.stopped_step == 3 and h.epochs['epoch'] == [1] and t.step == 3
    assert 'generator' in h.stopped_reason and not h.interrupted

def test_loader_with_a_length_but_no_batches_stops_cleanly():
    class Liar:
        def __len__(self): return 3
        def __iter__(self): return iter(())
    t = make(valid=False); t.train_dl = Liar()
    start = t.model.state_dict()
    with deadline(), pytest.warns(RuntimeWarning, match='yielded no batches in epoch 1'): h = t.fit(2)
    assert h.stopped_step == 0 and h.steps == {} and same(t.model.state_dict(), start)

class Boom:
    "A gradient that raises `exc` as soon as an optimizer computes with it (numpy defers to it)."
    __array_ufunc__ = None
    def __init__(self, exc): self.exc = exc
    def _raise(self, *_): raise self.exc
    __mul__ = __rmul__ = __add__ = __radd__ = __sub__ = __rsub__ = _raise

def breaking(cls, k, exc, **kw):
    "An optimizer of class `cls` whose k-th step raises `exc` halfway through (after updating some parameters)."
    class Breaking(cls):
        def step(self):
            self._n = getattr(self, '_n', 0) + 1
            if self._n - 1 == k: self.params[2].grad = Boom(exc)
            super().step()
    return lambda m: Breaking(m.parameters(), **kw)

OPT_KINDS = [(SGD, dict(lr=0.1, momentum=0.9)), (Adam, dict(lr=0.05))]

@pytest.mark.parametrize('cls,kw', OPT_KINDS)
@pytest.mark.parametrize('maker', ['scalar', 'tensor'])
def test_interrupt_inside_the_update_rolls_back_the_optimizer_too(cls, kw, maker):
    "D14: after Ctrl-C inside opt.step the optimizer's step count and buffers match the parameters kept."
    mk = make if maker == 'scalar' else make_tensor
    t = mk(opt=breaking(cls, 4, KeyboardInterrupt, **kw))
    ref = mk([InterruptAt(4)], opt=lambda m: cls(m.parameters(), **kw))
    h, hr = t.fit(3), ref.fit(3)
    assert h.interrupted and h.stopped_step == hr.stopped_step == 4 and t.step == 4
    assert t.opt.steps == ref.opt.steps == 4
    assert same(t.model.state_dict(), ref.model.state_dict())
    a, b = t.opt.state_dict()['state'], ref.opt.state_dict()['state']
    assert a.keys() == b.keys() and all(same(a[i], b[i]) for i in a)
    assert t.fit(1).stopped_reason == 'completed'              # and training goes on from there

@pytest.mark.parametrize('maker', ['scalar', 'tensor'])
def test_error_inside_the_update_restores_model_and_trainer(maker):
    "D10: an exception other than Ctrl-C inside opt.step: the model is restored, the trainer consistent, the error raised."
    mk = make if maker == 'scalar' else make_tensor
    t = mk(opt=breaking(SGD, 4, RuntimeError('disk on fire'), lr=0.1, momentum=0.9))
    ref = mk([InterruptAt(4)])
    ref.fit(3)
    with pytest.raises(RuntimeError, match='disk on fire'): t.fit(3)
    h = t.history
    assert t._updating is None and t.step == 4 and t.opt.steps == 4 and len(h.steps['loss']) == 4
    assert same(t.model.state_dict(), ref.model.state_dict())
    assert h.stopped_step == 4 and 'RuntimeError: disk on fire' in h.stopped_reason and not h.interrupted

def test_interrupt_in_on_fit_start_before_early_stopping_started():
    "D11: EarlyStopping's on_fit_end must work though its on_fit_start never ran."
    class InterruptAtStart(Callback):
        def on_fit_start(self, t): raise KeyboardInterrupt
    t = make([InterruptAtStart(), EarlyStopping(patience=2)])
    start = t.model.state_dict()
    h = t.fit(3)
    assert h.interrupted and h.stopped_step == 0 and same(t.model.state_dict(), start)

def test_interrupt_in_on_fit_end_keeps_why_training_ended():
    "Ctrl-C in on_fit_end after a completed run: the run stays 'completed', with the interruption added."
    class InterruptAtEnd(Callback):
        def on_fit_end(self, t): raise KeyboardInterrupt
    t, ref = make([InterruptAtEnd()]), make()
    h = t.fit(2); ref.fit(2)
    assert h.interrupted and h.stopped_reason.startswith('completed; ') and 'on_fit_end' in h.stopped_reason
    assert t.step == ref.step and same(t.model.state_dict(), ref.model.state_dict())

def test_interrupt_during_fit_set_up_is_recorded(monkeypatch):
    "Ctrl-C while fit saves the parameters (before on_fit_start): recorded as an interruption at step 0, nothing changed."
    from backprop_nb import trainer as tr
    def interrupted(*a, **k): raise KeyboardInterrupt
    t = make()
    start = t.model.state_dict()
    monkeypatch.setattr(tr, '_Saved', interrupted)
    h = t.fit(3)
    assert h.interrupted and h.stopped_step == 0 and 'interrupted' in h.stopped_reason
    assert same(t.model.state_dict(), start) and not h.steps.get('loss')

@pytest.mark.parametrize('maker', ['scalar', 'tensor'])
def test_interrupt_between_update_and_count_agrees_with_history(maker):
    "D12: Ctrl-C after opt.step() of step 4 (in on_step_end): model, step count and history all say 5 steps."
    mk = make if maker == 'scalar' else make_tensor
    t, ref = mk([InterruptAt(4, 'on_step_end')]), mk([InterruptAt(5)])
    h, hr = t.fit(10), ref.fit(10)
    assert t.step == h.stopped_step == len(h.steps['loss']) == 5 == hr.stopped_step
    assert 'after 5 steps' in h.stopped_reason
    assert same(t.model.state_dict(), ref.model.state_dict())

def test_interrupt_inside_tqdm_write_is_a_keyboard_interrupt(monkeypatch):
    "D13: Ctrl-C while tqdm.write takes its lock made tqdm's clean-up raise RuntimeError: cannot release un-acquired lock."
    from backprop_nb import trainer as tr
    class Lock:   # interrupted while acquiring: tqdm's `finally` then releases a lock it never got
        real = threading.RLock()
        def acquire(self, *a, **k): raise KeyboardInterrupt
        def release(self): self.real.release()
    monkeypatch.setattr(tr.tqdm, '_lock', Lock(), raising=False)
    monkeypatch.setattr(tr.tqdm, 'get_lock', classmethod(lambda cls: cls._lock))
    h = make([MetricLogger(file=io.StringIO())]).fit(3)
    assert h.interrupted and h.epochs['epoch'] == [1] and h.stopped_step == 3

@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_tensor_nonfinite_update_anywhere_is_caught(bad):
    "The one-pass finiteness check finds a single bad entry in any parameter array."
    for which in range(4):
        class Poison(SGD):
            def step(self):
                super().step()
                if self.steps == 3: self.params[which].data.flat[-1] = bad
        snaps = Snapshots()
        t = make_tensor([snaps], opt=lambda m: Poison(m.parameters(), lr=0.1))
        with pytest.warns(RuntimeWarning, match='non-finite parameters after the update at step 2'): h = t.fit(2)
        assert h.stopped_step == 2 and same(t.model.state_dict(), snaps.at[2]) and finite_params(t.model)


def test_to_numpy_and_accuracy_read_tensor_predictions():
    "Moved from chapter 6, which comes before the tensor chapters."
    from backprop_nb.tensor import Tensor
    from backprop_nb.trainer import to_numpy, accuracy
    np.testing.assert_array_equal(to_numpy(Tensor([[1.0, 3.0]])), np.array([[1.0, 3.0]]))
    assert accuracy(Tensor([[0.3], [-1.0], [2.0]]), [1, 0, 0]) == 2 / 3           # (n, 1) logits of a tensor network
    assert accuracy(Tensor([[0.1, 0.5, -1.0], [2.0, 0.0, 0.0]]), [1, 2]) == 0.5   # (n, k): the argmax

@pytest.mark.parametrize('name', ['n', 'loss'])
def test_metric_names_of_the_trainers_own_columns_are_refused(name):   # prober: metrics={'n': f} corrupted train_loss
    random.seed(0); model = MLP(2, [4, 1])
    with pytest.raises(ValueError, match=f"metric name '{name}' is reserved"):
        Trainer(model, hinge_loss, SGD(model.parameters(), lr=0.1), DataLoader(XT, YT, 16, seed=0), metrics={name: accuracy})

def test_step_hooks_set_on_a_callback_instance_are_called():   # prober: _hooks looked only at type(cb)
    cb, seen = Callback(), []
    cb.on_step_start = lambda t: seen.append(('start', t.step))
    cb.on_step_end = lambda t: seen.append(('end', t.step))
    make([cb, Snapshots()]).fit(1)
    assert seen == [(w, k) for k in range(3) for w in ('start', 'end')]   # 45 samples: 3 batches of 16

def test_the_base_classes_empty_step_hooks_are_skipped():   # the speed idea of _hooks, kept
    from backprop_nb.trainer import _hooks
    assert _hooks([Callback(), EarlyStopping()]) == {'on_step_start': [], 'on_step_end': []}
    assert len(_hooks([Snapshots()])['on_step_start']) == 1

class Halve(Callback):
    "At each epoch's end, halve every parameter: in place, or by giving it a new array."
    def __init__(self, new_array): self.new_array = new_array
    def on_epoch_end(self, t):
        for p in t.model.parameters():
            if self.new_array or not isinstance(p.data, np.ndarray): p.data = p.data * 0.5
            else: p.data *= 0.5

@pytest.mark.parametrize('maker', [make, make_tensor])
@pytest.mark.parametrize('k', [0, 2, 4, 7])     # 3 steps per epoch: 4 and 7 come after an epoch's end
@pytest.mark.parametrize('new_array', [None, False, True])
def test_without_step_callbacks_the_checked_copy_is_the_next_save(maker, k, new_array):
    "With no per-step callback the check's copy of the parameters is reused as the next save: it restores the same."
    loss = hinge_loss if maker is make else tensor_nn.hinge_loss
    extra = [] if new_array is None else [Halve(new_array)]
    ref = maker([Snapshots(), *extra], loss=nan_loss_at(k, loss), valid=False)   # a step hook: a fresh copy every step
    fast = maker(list(extra), loss=nan_loss_at(k, loss), valid=False)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref.fit(4); fast.fit(4)
    assert fast._saved.reuse and not ref._saved.reuse
    assert fast.history.stopped_step == ref.history.stopped_step == k
    assert same(fast.model.state_dict(), ref.model.state_dict()) and finite_params(fast.model)
    (rs, fs) = ref.opt.state_dict()['state'], fast.opt.state_dict()['state']
    assert rs.keys() == fs.keys() and all(np.array_equal(rs[i]['momentum_buffer'], fs[i]['momentum_buffer']) for i in rs)
