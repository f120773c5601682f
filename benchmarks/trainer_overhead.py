"""What `Trainer.fit` costs on top of the plain loop it wraps, for both engines, measured in one run.

The plain loop is the lesson's five lines over the same `DataLoader`: forward, loss, zero_grad,
backward, step, with the forward pass each engine's own (`model(xb)` for a tensor network, one
`model(x)` per example for a scalar one). `Trainer.fit` calls `model.forward_batch(xb)` instead,
so the ratio includes what `forward_batch` adds per batch. `Trainer.fit` runs the same five and keeps its guarantees (a non-finite loss or update
stops training with the last finite parameters restored; Ctrl-C or an exception keeps a consistent
model, optimizer and history), with no metrics and no callbacks.

1. tensor engine: `tensor_nn.MLP(64, [128, 64, 10])`, cross-entropy, SGD with momentum, batch 32, on
   1,437 digits-shaped examples (random data, so no optional dependency is needed).
2. scalar engine: `nn.MLP(2, [16, 16, 1])`, hinge loss, SGD, batch 32, on 128 moons.

Both are timed in turns (plain, trainer, plain, trainer, ...) so that a change in the machine's load
hits both, in CPU time of this process (`time.process_time`, so that other processes' work is not
counted); the fastest of the runs of each, per step, and their ratio are printed (the minimum: what
the code costs when the machine interferes least), with the load average. Numeric libraries run
with one thread.

    python benchmarks/trainer_overhead.py [--repeat 25]     # or: python benchmarks/run.py trainer_overhead
"""
import os
for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_var, '1')
import argparse, gc, random, sys, time
import numpy as np

def _plain(model, loss_fn, opt, dl, epochs, forward):
    for _ in range(epochs):
        for xb, yb in dl:
            loss = loss_fn(forward(model, xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()

def _trainer(model, loss_fn, opt, dl, epochs, forward):
    from backprop_nb.trainer import Trainer
    Trainer(model, loss_fn, opt, dl, metrics={}).fit(epochs)

def tensor_case():
    from backprop_nb.tensor_nn import MLP, cross_entropy, manual_seed
    from backprop_nb.optim import SGD
    from backprop_nb.data import DataLoader
    r = np.random.default_rng(0)
    X, y = r.random((1437, 64), dtype=np.float32), r.integers(0, 10, 1437)
    def make():
        manual_seed(0)
        m = MLP(64, [128, 64, 10])
        return m, cross_entropy, SGD(m.parameters(), lr=0.05, momentum=0.9), DataLoader(X, y, batch_size=32, seed=0)
    return 'tensor MLP 64-128-64-10, batch 32', make, 4, lambda model, xb: model(xb)

def scalar_case():
    from backprop_nb.nn import MLP
    from backprop_nb.losses import hinge_loss
    from backprop_nb.optim import SGD
    from backprop_nb.data import DataLoader, make_moons
    X, y = make_moons(128, seed=0)
    def make():
        random.seed(0)
        m = MLP(2, [16, 16, 1])
        return m, hinge_loss, SGD(m.parameters(), lr=0.05), DataLoader(X, y, batch_size=32, seed=0)
    return 'scalar MLP(2, [16, 16, 1]), batch 32', make, 3, lambda model, xb: [model(x) for x in xb]

def measure(make, epochs, forward, repeat):
    "The fewest CPU seconds per step of the plain loop and of Trainer.fit, timed in turns."
    times = {'plain': [], 'trainer': []}
    for _ in range(repeat):
        for name, run in (('plain', _plain), ('trainer', _trainer)):
            model, loss_fn, opt, dl = make()
            gc.collect()
            t0 = time.process_time()
            run(model, loss_fn, opt, dl, epochs, forward)
            times[name].append((time.process_time() - t0) / (epochs * len(dl)))
    return {k: min(v) for k, v in times.items()}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeat', type=int, default=25)
    args = p.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores); fastest of {args.repeat} interleaved runs (CPU time)")
    print(f"{'case':40} {'plain µs/step':>14} {'Trainer µs/step':>16} {'ratio':>7}")
    for case in (tensor_case, scalar_case):
        label, make, epochs, forward = case()
        m = measure(make, epochs, forward, args.repeat)
        print(f"{label:40} {m['plain'] * 1e6:14.1f} {m['trainer'] * 1e6:16.1f} {m['trainer'] / m['plain']:7.3f}", flush=True)
    print(f"load average after {os.getloadavg()[0]:.2f}")

if __name__ == '__main__':
    main(sys.argv[1:])
