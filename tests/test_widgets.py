"""The widgets driven from code: move the controls, press the buttons (their handlers), check what
the widget trained and what it drew. No browser here (see test_widgets_browser.py)."""
import math, random
import numpy as np
import pytest
import IPython.display

from backprop_nb import widgets as wg
from backprop_nb.widgets import (NeuronPlayground, BackpropStepper, LRExplorer, LRFinder, example_neuron,
                                 predict_grid, is_live)
from backprop_nb.autograd import Value, topological_order
from backprop_nb.nn import MLP, Neuron


@pytest.fixture
def static(monkeypatch): monkeypatch.setenv('BACKPROP_NB_STATIC', '1')


@pytest.fixture
def live(monkeypatch): monkeypatch.setenv('BACKPROP_NB_STATIC', '0')


# ---- display rule -------------------------------------------------------------------------

def test_is_live_env_and_shell(monkeypatch):
    monkeypatch.setenv('BACKPROP_NB_STATIC', '1'); assert not is_live()
    monkeypatch.setenv('BACKPROP_NB_STATIC', '0'); assert is_live()
    monkeypatch.delenv('BACKPROP_NB_STATIC')
    assert not is_live()  # plain Python: no IPython kernel


@pytest.mark.parametrize('env, expect', [('1', IPython.display.Image), ('0', wg.W.VBox)])
def test_display_static_picture_or_live_box(monkeypatch, env, expect):
    monkeypatch.setenv('BACKPROP_NB_STATIC', env)
    shown = []
    monkeypatch.setattr(IPython.display, 'display', lambda *objs, **kw: shown.extend(objs))
    pg = NeuronPlayground()
    pg._ipython_display_()
    assert isinstance(shown[0], expect)
    if expect is IPython.display.Image:   # the picture, then a note saying how to get the live widget
        assert shown[0].data == pg.png and pg.png.startswith(b'\x89PNG')
        assert len(shown) == 2 and 'make lab' in shown[1].data
    else: assert len(shown) == 1 and pg.image in shown[0].children


# ---- neuron playground ----------------------------------------------------------------------

def test_playground_sliders_redraw_and_match_neuron(static):
    pg = NeuronPlayground(w1=0.5, w2=0.5, b=0.0)
    img0, line0, n0 = pg.im.get_array().copy(), pg.line.get_xydata().copy(), len(pg.redraw_times)
    pg.sliders['w2'].value = -1.5           # what dragging the slider does
    assert len(pg.redraw_times) == n0 + 1
    assert not np.allclose(pg.im.get_array(), img0)
    assert not np.allclose(pg.line.get_xydata(), line0)
    n = Neuron(2); n.w[0].data, n.w[1].data, n.b.data = 0.5, -1.5, 0.0
    i, j = 37, 90
    x1, x2 = pg.x1[i, j], pg.x2[i, j]
    assert pg.im.get_array()[i, j] == pytest.approx(n([x1, x2]).data)
    # the dashed line is where the pre-activation is zero
    for x, y in pg.line.get_xydata(): assert 0.5 * x - 1.5 * y + 0.0 == pytest.approx(0, abs=1e-9)
    pg.activation.value = 'tanh'
    assert pg.im.get_clim() == (-1.0, 1.0) and pg.im.get_array().min() < 0
    pg.set(w1=0, w2=0, b=1)                 # no direction: no line, a flat output
    assert len(pg.line.get_xdata()) == 0 and np.ptp(pg.im.get_array()) == 0


# ---- backprop step-through ------------------------------------------------------------------

def test_stepper_buttons_walk_forward_then_backward(static):
    st = BackpropStepper()
    fwd, bwd, back, reset = (st.buttons[k] for k in ('forward', 'backward', 'back', 'reset'))
    assert (fwd.description, bwd.description) == ('Forward pass: next node', 'Backward pass: next node')
    assert back.disabled and not fwd.disabled and bwd.disabled   # the forward pass comes first
    assert all(n.grad == 0.0 for n in st.order)
    known = []
    while not fwd.disabled:
        fwd.click()
        known.append(sum(not math.isnan(n.data) for n in st.order))
    assert known == [6, 7, 8, 9, 10]                         # the five leaves, then one node per step
    assert st.position == st.n_forward and not bwd.disabled and st.root.grad == 0.0
    ref = example_neuron()
    assert [n.data for n in st.order] == [n.data for n in topological_order(ref)]
    seen = []
    while not bwd.disabled:
        bwd.click()
        seen.append(sum(n.grad != 0.0 for n in st.order))
    assert seen == sorted(seen) and st.done                  # gradients only ever fill in
    ref.backward()
    assert [n.grad for n in st.order] == [n.grad for n in topological_order(ref)]
    assert 'step 6 / 6' in st.status.value and 'done' in st.status.value
    back.click()
    assert st.position == st.n_steps - 1 and not bwd.disabled and fwd.disabled
    # the picture highlights the node being processed and names the product in its caption
    assert 'w1.grad += ∂w1x1/∂w1 × w1x1.grad = 2 × 1 = 2' in st.caption.get_text()
    boxes = [t for t in st.ax.texts if t.get_bbox_patch() is not None]
    assert len(boxes) == len(st.order)
    reset.click()
    assert st.position == 0 and all(n.grad == 0.0 for n in st.order) and back.disabled
    boxes = [t for t in st.ax.texts if t.get_bbox_patch() is not None]   # redrawn: the root's box is the last
    assert math.isnan(st.root.data) and boxes[-1].get_text().endswith('data ?\ngrad –')


def test_stepper_forward_steps_name_the_computation_and_text_is_readable(static):
    st = BackpropStepper()
    st.step()
    node = st.steps[1][0]
    a, b = node._parents
    assert st.explain() == f"{node.label} = {a.label} × {b.label} = {a.data:.4g} × {b.data:.4g} = {node.data:.4g}"
    assert st.caption.get_text().startswith('forward pass: 1 / 5 nodes')
    boxes = [t for t in st.ax.texts if t.get_bbox_patch() is not None]
    px = lambda t: t.get_fontsize() * st.fig.dpi / 72
    assert min(px(t) for t in boxes) >= 13 and px(st.caption) >= 13   # 10 pt at 96 dpi
    assert st.png.startswith(b'\x89PNG') and st.fig.get_figwidth() * st.fig.dpi <= 800   # shown at its own size


def test_stepper_any_expression_and_errors(static):
    x = Value(1.5, label='x')
    y = (x * x + x.sigmoid()).log(); y.label = 'y'
    st = BackpropStepper(y).goto(BackpropStepper(y).n_steps)
    s = 1 / (1 + math.exp(-1.5))
    assert x.grad == pytest.approx((2 * 1.5 + s * (1 - s)) / (1.5 ** 2 + s))
    with pytest.raises(TypeError, match='root must be a Value'): BackpropStepper(3.0)
    with pytest.raises(ValueError, match='more than max_nodes=30'): BackpropStepper(sum(Value(float(i)) for i in range(40)))
    with pytest.raises(TypeError, match='position must be an int'): st.goto(1.5)


# ---- learning-rate explorer -----------------------------------------------------------------

def test_explorer_train_button_overlays_runs(static):
    ex = LRExplorer(epochs=10)
    png0 = ex.png
    ex.lr.value = 0.003                       # the slider, as a learner moves it
    ex.train_button.click()
    ex.set_lr(0.1).train_button.click()
    assert [r.settings['lr'] for r in ex.runs] == pytest.approx([0.003, 0.1], rel=0.06)
    assert [r.status for r in ex.runs] == ['completed', 'completed']
    assert len(ex.lines) == 2 and all(len(l.get_xdata()) == 11 for l in ex.lines)
    np.testing.assert_array_equal(ex.lines[1].get_ydata(), ex.runs[1].losses)
    assert ex.runs[1].losses[-1] < ex.runs[0].losses[-1] < ex.runs[0].losses[0]
    assert 'lr=0.1 constant 10ep moons' in [t.get_text() for t in ex.ax_loss.get_legend().get_texts()]
    assert np.isfinite(ex.region.get_array()).all() and ex.png != png0
    assert not ex.train_button.disabled      # enabled again after training
    ex.clear_button.click()
    assert ex.runs == [] and all(len(l.get_xdata()) == 0 for l in ex.lines)


def test_explorer_divergent_run_is_marked_not_broken(static):
    ex = LRExplorer(epochs=10).set_lr(10.0)
    run = ex.train()
    assert run.status == 'diverged' and 'diverged' in run.label
    assert run.reason.startswith(('diverged', 'non-finite'))
    assert all(math.isfinite(v) for v in run.losses)
    mx, my = ex.marks[0].get_data()
    assert len(mx) == 1 and my[0] <= ex.ax_loss.get_ylim()[1]   # the cross is on the chart
    assert ex.lines[0].get_label().endswith('✕ diverged')


def test_explorer_schedule_epochs_dataset(static):
    ex = LRExplorer()
    ex.set_schedule('onecycle').set_epochs(6).set_dataset('blobs')   # three classes: cross-entropy
    assert ex.k == 3 and np.isnan(np.ma.getdata(ex.region.get_array())).all()   # a new dataset: no prediction yet
    run = ex.train()
    assert run.settings == dict(lr=pytest.approx(0.05, rel=0.06), schedule='onecycle', epochs=6, dataset='blobs')
    lrs = run.history.steps['lr']
    assert lrs[0] < max(lrs) and lrs[-1] < max(lrs)                  # warm-up, then anneal
    assert set(np.unique(ex.region.get_array())) <= {0.0, 1.0, 2.0}
    with pytest.raises(ValueError, match='between 0.001 and 10'): ex.set_lr(0)
    with pytest.raises(TypeError, match='lr must be a number'): ex.set_lr('fast')


def test_explorer_redraws_live_while_training(live):
    ex = LRExplorer(epochs=8)
    ex.min_interval = 0.0
    n0 = len(ex.redraw_times)
    ex.train()
    assert len(ex.redraw_times) - n0 >= 8     # at the start, after each epoch, at the end


def test_predict_grid_matches_the_model():
    random.seed(1)
    m = MLP(2, [5, 4, 3])
    pts = np.random.default_rng(0).normal(size=(7, 2))
    want = np.array([[v.data for v in m(list(p))] for p in pts])
    np.testing.assert_allclose(predict_grid(m, pts), want, rtol=1e-12)


# ---- learning-rate finder -------------------------------------------------------------------

def test_finder_leaves_model_unchanged_and_suggests(static):
    ex = LRExplorer()
    f = LRFinder.from_explorer(ex, steps=120)
    before = f.model.state_dict()
    grads = [p.grad for p in f.model.parameters()]
    with pytest.raises(ValueError, match='run the sweep first'): f.apply()
    assert f.use_button.disabled
    f.run_button.click()
    after = f.model.state_dict()
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)
    assert [p.grad for p in f.model.parameters()] == grads
    assert 20 < len(f.lrs) <= 120 and f.lrs[0] == pytest.approx(1e-4)
    assert np.all(np.diff(np.log(f.lrs)) > 0)
    assert min(f.lrs) < f.suggestion < max(f.lrs)
    assert f.suggestion == f.lrs[int(np.argmin(f.smoothed))] / LRFinder.divisor
    np.testing.assert_array_equal(f.smooth_line.get_ydata(), f.smoothed)
    assert len(f.mark.get_xdata()) == 1
    assert not f.use_button.disabled
    f.use_button.click()
    assert ex.lr.value == pytest.approx(f.suggestion, rel=0.06)


def test_finder_without_explorer_and_bad_arguments(static):
    random.seed(0)
    from backprop_nb.data import make_moons
    from backprop_nb.losses import mse_loss
    X, y = make_moons(64)
    f = LRFinder(MLP(2, [8, 1]), X, 2.0 * y - 1, mse_loss, steps=40)
    f.run()
    assert f.suggestion is not None and f.use_button.disabled
    with pytest.raises(ValueError, match='has no explorer'): f.apply()
    with pytest.raises(ValueError, match='start_lr < end_lr'): LRFinder(MLP(2, [1]), X, y, mse_loss, start_lr=1, end_lr=0.1)
    with pytest.raises(ValueError, match='steps must be an int >= 10'): LRFinder(MLP(2, [1]), X, y, mse_loss, steps=3)


# ---- static pictures ------------------------------------------------------------------------

def test_static_pictures_show_a_state_that_teaches(monkeypatch, static):
    shown = []
    monkeypatch.setattr(IPython.display, 'display', lambda *objs, **kw: shown.extend(objs))
    ex = LRExplorer(epochs=6)
    empty = ex.png
    ex._ipython_display_()
    assert [r.settings['lr'] for r in ex.runs] == pytest.approx([0.001, 2.0, 0.03], rel=0.06)
    assert [r.status for r in ex.runs] == ['completed', 'diverged', 'completed']
    assert shown[0].data == ex.png != empty and 'after three runs with lr = 0.001, 2, 0.03' in shown[1].data
    assert np.isfinite(ex.region.get_array()).all()           # the panel shows the last, good, run
    assert ex.lr.value == pytest.approx(0.05)                   # the slider is where it was
    f = LRFinder.from_explorer(ex, steps=40)
    f._ipython_display_()
    assert f.suggestion is not None and 'after one sweep' in shown[3].data and shown[2].data == f.png
    st = BackpropStepper()
    st._ipython_display_()
    assert st.position == st.n_forward + 3 and 'half-way through the backward pass (step 8 of 11)' in shown[5].data
    st.goto(2)
    st._ipython_display_()                                      # moved by hand: shown as it is
    assert st.position == 2 and 'half-way' not in shown[7].data
    pg = NeuronPlayground()
    pg._ipython_display_()
    assert shown[8].data == pg.png and '*A static picture of the NeuronPlayground widget: open' in shown[9].data


def test_live_display_leaves_widgets_as_they_are(monkeypatch, live):
    shown = []
    monkeypatch.setattr(IPython.display, 'display', lambda *objs, **kw: shown.extend(objs))
    ex, st = LRExplorer(epochs=6), BackpropStepper()
    ex._ipython_display_(); st._ipython_display_()
    assert ex.runs == [] and st.position == 0 and [type(w) for w in shown] == [wg.W.VBox, wg.W.VBox]


def test_playground_sigmoid_is_the_engines(static):
    pg = NeuronPlayground(activation='sigmoid')
    pg.set(w1=3.0, w2=0.0, b=-1.0)
    for x in (-2.0, -0.3, 0.0, 1.7):
        assert float(pg.output(x, 0.0)) == pytest.approx(Value(3.0 * x - 1.0).sigmoid().data, rel=1e-15)
    assert wg._ACTIVATIONS['sigmoid'][0](np.array([-800.0, 800.0])).tolist() == [0.0, 1.0]   # no overflow
