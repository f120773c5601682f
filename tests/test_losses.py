"Losses: the seed's formula, parity with PyTorch (values and gradients), numerical gradients, stability."
import math
import numpy as np
import pytest
from oracle import torch, F
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from backprop_nb.autograd import Value, gradcheck
from backprop_nb.losses import (sum_squared_error, mse_loss, hinge_loss, binary_cross_entropy_with_logits,
                                cross_entropy, logsumexp)

def vals(a):
    "Values shaped like forward_batch's output: a list of Values for 1-D, a list of lists for 2-D."
    a = np.asarray(a, dtype=np.float64)
    return [Value(float(v)) for v in a] if a.ndim == 1 else [[Value(float(v)) for v in r] for r in a]

def grads(vs): return np.array([v.grad for v in vs] if isinstance(vs[0], Value) else [[v.grad for v in r] for r in vs])

def ours_and_torch(loss, torch_loss, x, t, **kw):
    v = vals(x)
    out = loss(v, t, **kw); out.backward()
    tx = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    tout = torch_loss(tx); tout.backward()
    return out.data, grads(v), tout.item(), tx.grad.numpy()

finite = st.floats(-50, 50, allow_nan=False)

def test_sum_squared_error_is_the_seeds_formula():
    preds, ys = [1.5, -0.5, 2.0], [1.0, 0.0, -1.0]
    assert sum_squared_error(vals(preds), ys).data == sum((p - y) ** 2 for p, y in zip(preds, ys))
    assert sum_squared_error(vals([[1.0, 2.0], [3.0, 4.0]]), [[0.0, 0.0], [0.0, 0.0]]).data == 30.0

@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 6), elements=finite), st.data())
def test_mse_matches_torch(x, data):
    t = data.draw(arrays(np.float64, x.shape, elements=finite))
    for red in ('mean', 'sum'):
        a, ga, b, gb = ours_and_torch(mse_loss, lambda tx: F.mse_loss(tx, torch.tensor(t), reduction=red), x, t, reduction=red)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-12)

@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 6), elements=finite), st.data())
def test_hinge_matches_its_definition_in_torch(x, data):
    y = np.array(data.draw(st.lists(st.sampled_from([-1, 1]), min_size=len(x), max_size=len(x))))
    a, ga, b, gb = ours_and_torch(hinge_loss, lambda tx: torch.clamp(1 - torch.tensor(y, dtype=torch.float64) * tx, min=0).mean(), x, y)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    off_kink = y * x != 1   # at the kink torch's clamp passes the gradient, ReLU (ours, micrograd's) does not
    np.testing.assert_allclose(ga[off_kink], gb[off_kink], rtol=1e-12, atol=1e-12)
    assert hinge_loss(vals(x), (y + 1) // 2).data == a          # {0, 1} labels: the same loss

@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 3)), elements=st.floats(-1000, 1000)), st.data())
def test_bce_with_logits_matches_torch(x, data):
    t = data.draw(arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    a, ga, b, gb = ours_and_torch(binary_cross_entropy_with_logits,
                                  lambda tx: F.binary_cross_entropy_with_logits(tx, torch.tensor(t)), x, t)
    assert math.isfinite(a)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ga, gb, rtol=1e-9, atol=1e-12)

@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 5)), elements=st.floats(-1000, 1000)), st.data())
def test_cross_entropy_matches_torch(x, data):
    t = np.array(data.draw(st.lists(st.integers(0, x.shape[1] - 1), min_size=len(x), max_size=len(x))))
    for red in ('mean', 'sum'):
        a, ga, b, gb = ours_and_torch(cross_entropy, lambda tx: F.cross_entropy(tx, torch.tensor(t), reduction=red), x, t, reduction=red)
        assert math.isfinite(a)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ga, gb, rtol=1e-9, atol=1e-12)

@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=3, max_size=3), st.integers(0, 2), st.floats(0, 1))
def test_every_loss_passes_gradcheck(zs, target, p):
    v = [Value(z) for z in zs]
    assert gradcheck(lambda a, b, c: cross_entropy([[a, b, c], [c, b, a]], [target, 2 - target]), *v)
    assert gradcheck(lambda a, b, c: binary_cross_entropy_with_logits([a, b, c], [p, 1 - p, p]), *v)
    assert gradcheck(lambda a, b, c: mse_loss([[a, b], [c, a]], [[p, 0.0], [1.0, -p]]), *v)
    assert gradcheck(lambda a, b, c: sum_squared_error([a, b, c], [p, 0.5, -1.0]), *v)
    assert gradcheck(lambda a, b, c: logsumexp([a, b, c]), *v)
    # hinge: away from its kink at y*s = 1, where the derivative does not exist
    if all(abs(abs(z) - 1) > 1e-3 for z in zs):
        assert gradcheck(lambda a, b, c: hinge_loss([a, b, c], [1, -1, 1]), *v)

@pytest.mark.parametrize('big', [1000.0, 1e6, 1e300])
def test_stable_at_huge_logits(big):
    v = [[Value(big), Value(-big), Value(0.0)]]
    loss = cross_entropy(v, [1]); loss.backward()
    assert loss.data == 2 * big and [x.grad for x in v[0]] == [1.0, -1.0, 0.0]
    assert cross_entropy([[Value(big), Value(big)]], [0]).data == math.log(2)
    z = Value(-big); l = binary_cross_entropy_with_logits([z], [1.0]); l.backward()
    assert (l.data, z.grad) == (big, -1.0)
    assert logsumexp([Value(-big), Value(-big)]).data == -big + math.log(2)

@pytest.mark.parametrize('call,exc,msg', [
    (lambda: mse_loss([], []), ValueError, 'empty batch'),
    (lambda: mse_loss(np.zeros(3), [0, 0, 0]), TypeError, 'must be a list of Values'),
    (lambda: mse_loss(vals([1.0, 2.0]), [1.0]), ValueError, r'2 predictions with 1 output\(s\) each, but targets of shape \(1,\)'),
    (lambda: mse_loss(vals([1.0]), ['a']), TypeError, 'targets must be numbers'),
    (lambda: mse_loss(vals([1.0]), [1.0], reduction='max'), ValueError, "reduction must be 'mean' or 'sum'"),
    (lambda: mse_loss([[Value(1.0)], [Value(1.0), Value(2.0)]], [1, 2]), ValueError, 'same number of outputs'),
    (lambda: hinge_loss(vals([1.0, 2.0]), [2, 1]), ValueError, 'labels must be all in'),
    (lambda: hinge_loss(vals([[1.0, 2.0]]), [1]), ValueError, 'one score per example'),
    (lambda: binary_cross_entropy_with_logits(vals([1.0]), [1.5]), ValueError, r'targets must be in \[0, 1\]'),
    (lambda: cross_entropy(vals([[1.0, 2.0]]), [2]), ValueError, r'class indices in 0..1'),
    (lambda: cross_entropy(vals([[1.0, 2.0]]), [0.5]), TypeError, 'integer class indices'),
    (lambda: cross_entropy(vals([1.0, 2.0]), [0, 1]), ValueError, 'at least 2'),
    (lambda: cross_entropy(vals([[1.0, 2.0]]), [0, 1]), ValueError, 'targets of shape'),
])
def test_errors(call, exc, msg):
    with pytest.raises(exc, match=msg): call()

def test_targets_shapes_accepted():
    p = vals([1.0, 2.0])
    assert mse_loss(p, [1.0, 2.0]).data == mse_loss(p, np.array([[1.0], [2.0]])).data == 0.0
    assert cross_entropy(vals([[1.0, 2.0], [0.0, 0.0]]), np.array([[1], [0]])).data == cross_entropy(vals([[1.0, 2.0], [0.0, 0.0]]), [1.0, 0.0]).data

# ---------------------------------------------------------------- scalar only (tensor losses: tests/test_tensor_nn.py)
def test_losses_are_scalar_and_point_tensors_to_tensor_nn():
    from backprop_nb.tensor import Tensor
    import backprop_nb.losses as losses
    z = Tensor(np.zeros((3, 2)), requires_grad=True)
    for loss, t in ((mse_loss, np.zeros((3, 2))), (sum_squared_error, np.zeros((3, 2))), (hinge_loss, [1, 0, 1]),
                    (binary_cross_entropy_with_logits, np.zeros((3, 2))), (cross_entropy, [0, 1, 0])):
        with pytest.raises(TypeError, match=f"{loss.__name__}: predictions must be a list of Values.*backprop_nb.tensor_nn"):
            loss(z, t)
    assert not [k for k, v in vars(losses).items() if getattr(v, '__module__', '').startswith('backprop_nb.tensor')]   # nothing of chapters 8-9
