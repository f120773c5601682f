"Generated datasets, the train/validation split and the DataLoader (properties with hypothesis)."
import re, sys
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from backprop_nb.data import (DATASETS, make_dataset, make_moons, make_circles, make_spirals, make_xor, make_blobs,
                              train_valid_split, DataLoader)

# ---------------------------------------------------------------- datasets
@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(DATASETS)), n=st.integers(3, 300), seed=st.integers(0, 2**32 - 1))
def test_datasets_shape_dtype_and_seed(name, n, seed):
    X, y = make_dataset(name, n=n, seed=seed)
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.shape == (n,) and y.dtype == np.int64
    assert np.isfinite(X).all()
    assert y.min() >= 0
    X2, y2 = make_dataset(name, n=n, seed=seed)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)

@pytest.mark.parametrize('name', sorted(DATASETS))
def test_seeds_differ(name):
    assert not np.array_equal(make_dataset(name, n=50, seed=0)[0], make_dataset(name, n=50, seed=1)[0])

@pytest.mark.parametrize('fn,k', [(make_moons, 2), (make_circles, 2), (make_spirals, 3), (make_blobs, 3)])
def test_classes_balanced(fn, k):
    counts = np.bincount(fn(301)[1])
    assert len(counts) == k and counts.max() - counts.min() <= 1

def test_noise_free_geometry():
    X, y = make_moons(40, noise=0.0)
    assert np.allclose(np.hypot(*X[y == 0].T), 1.0)
    X, y = make_circles(40, noise=0.0, factor=0.4)
    assert np.allclose(np.hypot(*X[y == 1].T), 0.4) and np.allclose(np.hypot(*X[y == 0].T), 1.0)
    X, y = make_xor(100, noise=0.0)
    assert np.array_equal(y, ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(int))
    X, y = make_blobs(6, centers=[[0, 0], [10, 10]], noise=0.0)
    assert np.array_equal(X[y == 1], np.full((3, 2), 10.0))

def test_all_generators_take_n_noise_seed():
    for name in DATASETS: make_dataset(name, n=20, noise=0.0, seed=5)

@pytest.mark.parametrize('call,exc,msg', [
    (lambda: make_moons(n=1.5), TypeError, "make_moons: n must be an integer, got float"),
    (lambda: make_moons(n=True), TypeError, "n must be an integer, got bool"),
    (lambda: make_moons(n=1), ValueError, "n must be at least 2"),
    (lambda: make_xor(noise=float('nan')), ValueError, "make_xor: noise must be in [0.0, inf), got nan"),   # was "finite and >= 0"
    (lambda: make_xor(noise=float('inf')), ValueError, "make_xor: noise must be in [0.0, inf), got inf"),
    (lambda: make_xor(noise='lots'), TypeError, "noise must be a number"),
    (lambda: make_spirals(n=2, classes=3), ValueError, "n must be at least 3"),
    (lambda: make_spirals(classes=1), ValueError, "classes must be at least 2"),
    (lambda: make_circles(factor=1.0), ValueError, "make_circles: factor must be in (0.0, 1.0), got 1.0"),   # was "between 0 and 1"
    (lambda: make_circles(factor='big'), TypeError, "make_circles: factor must be a number, got str"),
    (lambda: make_spirals(turns=None), TypeError, "make_spirals: turns must be a number, got NoneType"),
    (lambda: make_blobs(centers=2.5), ValueError, "shape (k, 2)"),
    (lambda: make_blobs(n=2, centers=3), ValueError, "make_blobs: n must be at least 3, got 2"),
    (lambda: make_blobs(centers=np.zeros((3, 3))), ValueError, "shape (k, 2)"),
    (lambda: make_dataset('digits'), ValueError, "unknown dataset 'digits'"),
])
def test_bad_arguments(call, exc, msg):
    with pytest.raises(exc, match=None) as e: call()
    assert msg in str(e.value)

# ---------------------------------------------------------------- train/validation split
@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 200), frac=st.floats(0, 0.9), seed=st.integers(0, 1000))
def test_split_is_a_partition(n, frac, seed):
    assume(n - round(n * frac) >= 1)
    X = np.arange(2 * n, dtype=float).reshape(n, 2); y = np.arange(n)
    (Xt, yt), (Xv, yv) = train_valid_split(X, y, valid_frac=frac, seed=seed)
    assert len(yv) == round(n * frac) and len(yt) + len(yv) == n and len(yt) >= 1
    assert sorted(np.concatenate([yt, yv])) == list(range(n))      # every sample in exactly one part
    assert np.array_equal(Xt[:, 0], 2 * yt) and np.array_equal(Xv[:, 0], 2 * yv)  # rows keep their labels

def test_split_errors():
    X, y = np.zeros((4, 2)), np.zeros(4)
    for bad in (1.0, -0.1, float('nan')):   # a value out of range is a ValueError ...
        with pytest.raises(ValueError, match=re.escape('train_valid_split: valid_frac must be in [0.0, 1.0), got')):
            train_valid_split(X, y, valid_frac=bad)
    for bad in ('x', True, None):           # ... the wrong kind of thing a TypeError (both were ValueErrors)
        with pytest.raises(TypeError, match='train_valid_split: valid_frac must be a number, got'): train_valid_split(X, y, valid_frac=bad)
    with pytest.raises(ValueError, match='X has 4 rows but y has 3'): train_valid_split(X, y[:3])
    with pytest.raises(ValueError, match='leave none for training'): train_valid_split(X[:1], y[:1], valid_frac=0.6)

# ---------------------------------------------------------------- DataLoader
@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 120), bs=st.integers(1, 50), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 10**6), epochs=st.integers(1, 3))
def test_loader_epochs(n, bs, shuffle, drop_last, seed, epochs):
    X = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(float); y = np.arange(n)
    dl = DataLoader(X, y, batch_size=bs, shuffle=shuffle, drop_last=drop_last, seed=seed)
    expected_len = n // bs if drop_last else -(-n // bs)
    assert len(dl) == expected_len
    for _ in range(epochs):
        batches = list(dl)
        assert len(batches) == expected_len
        sizes = [len(yb) for _, yb in batches]
        assert all(s == bs for s in sizes[:-1])
        if drop_last: assert all(s == bs for s in sizes)
        elif batches: assert 1 <= sizes[-1] <= bs
        seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], int)
        assert len(set(seen.tolist())) == len(seen)                 # nobody twice
        if not drop_last: assert sorted(seen) == list(range(n))      # everybody once
        else: assert len(seen) == n - n % bs
        if not shuffle: assert list(seen) == list(range(len(seen)))
        for xb, yb in batches: assert np.array_equal(xb[:, 0], yb) and np.array_equal(xb[:, 1], -yb)

def test_loader_reproducible_and_reshuffles():
    X, y = np.zeros((50, 2)), np.arange(50)
    a, b = DataLoader(X, y, 8, seed=3), DataLoader(X, y, 8, seed=3)
    e1a, e1b = [list(yb) for _, yb in a], [list(yb) for _, yb in b]
    assert e1a == e1b
    assert [list(yb) for _, yb in a] != e1a                          # the next epoch is a new order

def test_loader_errors():
    X, y = np.zeros((5, 2)), np.zeros(5)
    with pytest.raises(ValueError, match='batch_size must be at least 1'): DataLoader(X, y, batch_size=0)
    with pytest.raises(TypeError, match='batch_size must be an integer'): DataLoader(X, y, batch_size=2.5)
    with pytest.raises(TypeError, match='DataLoader: batch_size must be an integer, got bool'): DataLoader(X, y, batch_size=True)
    assert DataLoader(X, y, batch_size=np.int64(2)).batch_size == 2
    with pytest.raises(ValueError, match='X has 5 rows but y has 4'): DataLoader(X, y[:4])

# ---------------------------------------------------------------- scikit-learn's handwritten digits (the optional [datasets] extra)
def test_load_digits():
    from backprop_nb.data import load_digits
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0 and set(np.unique(y)) == set(range(10))
    from sklearn.datasets import load_digits as sk
    np.testing.assert_array_equal(X * 16, sk().data)                      # the same images, scaled
    Xs, ys = load_digits(seed=1)
    assert not np.array_equal(ys, y) and np.array_equal(np.sort(ys), np.sort(y))
    np.testing.assert_array_equal(load_digits(seed=1)[0], Xs)

def test_load_digits_without_scikit_learn_names_the_extra(monkeypatch):
    from backprop_nb.data import load_digits
    monkeypatch.setitem(sys.modules, 'sklearn', None)            # as if it were not installed
    monkeypatch.setitem(sys.modules, 'sklearn.datasets', None)
    with pytest.raises(ImportError, match=re.escape("load_digits needs scikit-learn: pip install 'backprop_nb[datasets]'")):
        load_digits()

# ---------------------------------------------------------------- the plain training loop at the end of chapter 5
def _plain_loop(epochs):
    import random
    from backprop_nb.nn import MLP
    from backprop_nb.losses import hinge_loss
    from backprop_nb.optim import SGD
    X, y = make_moons(100, noise=0.1, seed=0)
    (Xt, yt), _ = train_valid_split(X, y, valid_frac=0.2, seed=0)
    random.seed(0)
    model = MLP(2, [16, 16, 1])
    opt, dl, losses = SGD(model.parameters(), lr=0.1, momentum=0.9), DataLoader(Xt, yt, batch_size=16, seed=0), []
    for _ in range(epochs):
        for xb, yb in dl:
            loss = hinge_loss(model.forward_batch(xb), yb)
            opt.zero_grad(); loss.backward(); opt.step()
            losses.append(loss.data)
    return losses

def test_plain_loop_learns_and_the_trainer_is_that_loop():
    import random
    from backprop_nb.nn import MLP
    from backprop_nb.losses import hinge_loss
    from backprop_nb.optim import SGD
    from backprop_nb.trainer import Trainer
    losses = _plain_loop(6)
    assert len(losses) == 30 and np.mean(losses[-5:]) < np.mean(losses[:5]) / 1.5
    X, y = make_moons(100, noise=0.1, seed=0)
    (Xt, yt), _ = train_valid_split(X, y, valid_frac=0.2, seed=0)
    random.seed(0)
    model = MLP(2, [16, 16, 1])
    h = Trainer(model, hinge_loss, SGD(model.parameters(), lr=0.1, momentum=0.9), DataLoader(Xt, yt, batch_size=16, seed=0)).fit(6)
    assert h.steps['loss'] == losses        # chapter 6's Trainer runs exactly chapter 5's loop, step for step
