"""Parity with PyTorch for a whole training run: a tensor MLP on the handwritten digits, trained by our
Trainer, and a torch twin started from the same weights and fed the same mini-batches, give the
same loss at every step (float64), with SGD (momentum, nesterov, weight decay), Adam and AdamW."""
import numpy as np
import pytest
from oracle import torch

from backprop_nb.data import load_digits, train_valid_split, DataLoader
from backprop_nb.tensor_nn import MLP, manual_seed, cross_entropy, mse_loss
from backprop_nb.optim import SGD, Adam, AdamW
from backprop_nb.trainer import Trainer

F = torch.nn.functional
X, Y = load_digits(seed=0)
(XT, YT), _ = train_valid_split(X[:400], Y[:400], 0.2, seed=0)   # 320 training images: 10 batches of 32
STEPS = 20

OPTIMIZERS = {
    'sgd-momentum': (lambda p: SGD(p, lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    'sgd-nesterov-wd': (lambda p: SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3),
                        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3)),
    'adam': (lambda p: Adam(p, lr=3e-3), lambda p: torch.optim.Adam(p, lr=3e-3)),
    'adamw': (lambda p: AdamW(p, lr=3e-3, weight_decay=0.05), lambda p: torch.optim.AdamW(p, lr=3e-3, weight_decay=0.05)),
}

def twins(hidden=(32, 16), nout=10, seed=0):
    "Our float64 tensor MLP and a torch Sequential with the same weights."
    manual_seed(seed)
    ours = MLP(64, [*hidden, nout], dtype=np.float64)
    layers = []
    sizes = [64, *hidden, nout]
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1], dtype=torch.float64))
        if i < len(sizes) - 2: layers.append(torch.nn.ReLU())
    theirs = torch.nn.Sequential(*layers)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs

def torch_losses(model, opt, loss_fn, batches):
    out = []
    for xb, yb in batches:
        loss = loss_fn(model(torch.tensor(xb)), yb)
        opt.zero_grad(); loss.backward(); opt.step()
        out.append(loss.item())
    return out

@pytest.mark.parametrize('name', list(OPTIMIZERS))
def test_losses_track_torch_step_by_step(name):
    make, tmake = OPTIMIZERS[name]
    ours, theirs = twins()
    dl = DataLoader(XT, YT, batch_size=32, seed=1)
    trainer = Trainer(ours, cross_entropy, make(ours.parameters()), dl)
    h = trainer.fit(STEPS // len(dl))
    same = DataLoader(XT, YT, batch_size=32, seed=1)                      # deals the same batches, epoch after epoch
    batches = [b for _ in range(STEPS // len(dl)) for b in same]
    expected = torch_losses(theirs, tmake(theirs.parameters()), lambda z, y: F.cross_entropy(z, torch.tensor(y)), batches)
    assert len(h.steps['loss']) == len(expected) == STEPS
    np.testing.assert_allclose(h.steps['loss'], expected, rtol=1e-10, atol=1e-12)
    assert expected[-1] < expected[0]                                     # it did learn something
    for k, v in theirs.state_dict().items():                              # and the weights agree at the end
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-8, atol=1e-10)

def test_regression_with_mse_tracks_torch():
    ours, theirs = twins(hidden=(16,), nout=1, seed=3)
    target = (YT % 2).astype(np.float64)                                  # odd or even, as a number to fit
    dl = DataLoader(XT, target, batch_size=32, seed=2)
    h = Trainer(ours, mse_loss, SGD(ours.parameters(), lr=0.1, momentum=0.9), dl, metrics={}).fit(2)
    same = DataLoader(XT, target, batch_size=32, seed=2)
    batches = [b for _ in range(2) for b in same]
    expected = torch_losses(theirs, torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9),
                            lambda z, y: F.mse_loss(z[:, 0], torch.tensor(y)), batches)
    np.testing.assert_allclose(h.steps['loss'], expected, rtol=1e-10, atol=1e-12)
