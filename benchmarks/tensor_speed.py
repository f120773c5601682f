"""The tensor engine against PyTorch eager and a hand-written numpy network, measured in one run.

1. Digits MLP 64-128-64-10, cross-entropy, SGD and Adam, batch 32 and 256: time per epoch of 1,437
   training examples (sklearn's `load_digits`, 80 % of it; random data of the same shape if sklearn is
   missing) for backprop_nb's public API, PyTorch eager (`torch.nn` + `torch.optim`), and numpy written
   by hand (forward, backward and update, no graph: numpy as one first writes it, the baseline a graph adds to).
2. MLP 784-512-512-10, SGD, batch 64 and 512 (random data): time per training step.
3. Where the time goes: one operation, chapter 8's array helpers against the numpy they replace, and one
   digits training step (batch 32, SGD) split into
   forward + loss, zero_grad, backward and optimizer step, for backprop_nb and PyTorch.
4. Memory: resident memory after 100 and after 1,000 training steps of our engine (no graph kept alive
   means no growth).

Every library runs with ONE thread (set before numpy is imported; torch.set_num_threads(1)). The engines
are timed in turns (round-robin, so that a change in machine load hits all of them), each in a process of
its own (so that one engine's allocations cannot slow another's), and medians are reported (the digits table also gives the ratio of the fastest epochs). The load
average is printed next to the figures.

    python benchmarks/tensor_speed.py [--quick] [--repeat 25]     # or: python benchmarks/run.py tensor_speed
"""
import os
for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_var, '1')
import argparse, gc, importlib, resource, statistics, sys, time
import numpy as np

LR = {'SGD': 0.05, 'Adam': 0.001}

# ---------------------------------------------------------------- data
def digits():
    "(X_train float32 (1437, 64), y_train int64) and where they came from."
    try:
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        source = "sklearn load_digits"
    except ImportError:
        r = np.random.default_rng(0)
        X, y = r.integers(0, 17, (1797, 64)).astype(np.float64), r.integers(0, 10, 1797)
        source = "random data of the digits' shape (sklearn not installed)"
    perm = np.random.default_rng(0).permutation(len(X))
    X, y = (X[perm] / 16.0).astype(np.float32), y[perm].astype(np.int64)
    n = int(len(X) * 0.8)   # 1437
    return X[:n], y[:n], source

def batches(X, y, bs):
    "Fixed batches (the last one may be smaller), the same for every engine."
    return [(X[i:i + bs], y[i:i + bs]) for i in range(0, len(X), bs)]

def init_weights(sizes, seed=0):
    "PyTorch's default Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the same for every engine."
    r = np.random.default_rng(seed)
    out = []
    for a, b in zip(sizes, sizes[1:]):
        k = 1 / np.sqrt(a)
        out.append((r.uniform(-k, k, (b, a)).astype(np.float32), r.uniform(-k, k, b).astype(np.float32)))
    return out

# ---------------------------------------------------------------- the three engines
# Each maker returns `run(batches)`: one training step per batch, returning the last loss.

def make_ours(sizes, opt_name):
    from backprop_nb.tensor_nn import MLP, cross_entropy
    from backprop_nb.optim import SGD, Adam
    net = MLP(sizes[0], sizes[1:])
    from backprop_nb.tensor import no_grad
    with no_grad():
        for lin, (W, b) in zip(net[::2], init_weights(sizes)): lin.weight[...] = W; lin.bias[...] = b
    opt = (SGD if opt_name == 'SGD' else Adam)(net.parameters(), lr=LR[opt_name])
    def run(bs):
        for xb, yb in bs:
            loss = cross_entropy(net(xb), yb)
            opt.zero_grad(); loss.backward(); opt.step()
        return loss.item()
    return run

def make_torch(sizes, opt_name):
    import torch
    torch.set_num_threads(1)
    layers = []
    for i, (W, b) in enumerate(init_weights(sizes)):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float32)
        with torch.no_grad(): lin.weight.copy_(torch.from_numpy(W)); lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU()] if i < len(sizes) - 2 else [lin]
    net = torch.nn.Sequential(*layers)
    opt = (torch.optim.SGD if opt_name == 'SGD' else torch.optim.Adam)(net.parameters(), lr=LR[opt_name])
    cache = {}   # the batches as torch tensors, converted once (outside the timing, like the numpy batches)
    def run(bs):
        hit = cache.get(id(bs))
        if hit is None or hit[0] is not bs:
            hit = cache[id(bs)] = (bs, [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in bs])
        for xb, yb in hit[1]:
            loss = torch.nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad(); loss.backward(); opt.step()
        return loss.item()
    return run

def make_numpy(sizes, opt_name):
    "Forward, backward and update written out by hand for this network: no graph, no bookkeeping."
    params = [p for Wb in init_weights(sizes) for p in Wb]
    lr, (b1, b2), eps = LR[opt_name], (0.9, 0.999), 1e-8
    ms, vs, t = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params], [0]
    def step(xb, yb):
        n, L = len(xb), len(params) // 2
        acts, h = [xb], xb
        for i in range(L):
            W, b = params[2 * i], params[2 * i + 1]
            h = h @ W.T + b
            if i < L - 1: h = np.maximum(h, 0)
            acts.append(h)
        z = h - h.max(axis=1, keepdims=True)
        e = np.exp(z); s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = (np.log(s[:, 0]) - z[rows, yb]).mean()
        g = e / s; g[rows, yb] -= 1; g /= n                  # d loss / d logits = softmax - onehot
        grads = [None] * len(params)
        for i in reversed(range(L)):
            a = acts[i]
            grads[2 * i], grads[2 * i + 1] = g.T @ a, g.sum(axis=0)
            if i: g = (g @ params[2 * i]) * (a > 0)          # through the layer and the ReLU before it
        if opt_name == 'SGD':
            for p, gp in zip(params, grads): p -= lr * gp
        else:
            t[0] += 1
            step_size, bc2 = lr / (1 - b1 ** t[0]), (1 - b2 ** t[0]) ** 0.5
            for p, gp, m, v in zip(params, grads, ms, vs):
                m *= b1; m += (1 - b1) * gp
                v *= b2; v += (1 - b2) * (gp * gp)
                p -= step_size * m / (np.sqrt(v) / bc2 + eps)
        return loss
    def run(bs):
        for xb, yb in bs: loss = step(xb, yb)
        return float(loss)
    return run

# ---------------------------------------------------------------- timing
# Each engine runs in a process of its own, as it would for a user. Sharing one process distorts the
# figures: with PyTorch training between its epochs, our engine's epoch took 13 % longer and numpy's 5 %
# longer (measured here: 3.42 -> 3.87 ms and 3.02 -> 3.18 ms; the allocator's state is shared).
MAKERS = {'backprop_nb': 'make_ours', 'numpy by hand': 'make_numpy', 'PyTorch eager': 'make_torch'}

def _serve(conn):
    "Worker: build an engine on request; each time the parent asks, run `work` once untimed, then once timed."
    run = work = None
    for kind, payload in iter(conn.recv, None):
        if kind == 'build':
            maker, args_, work, warmup = payload   # maker: a name here, or 'module:name' (compile_speed's engines)
            mod, _, name = maker.rpartition(':')
            run = (getattr(importlib.import_module(mod), name) if mod else globals()[name])(*args_)
            for _ in range(warmup): run(work)
            conn.send(None)
        else:   # in training, epochs follow each other: re-warm after the other engines' turns, then time
            run(work)
            t0 = time.perf_counter(); run(work); conn.send(time.perf_counter() - t0)

class Workers:
    "One worker process per engine, started once (spawned: nothing inherited from this process but the environment)."
    def __init__(self, names):
        import multiprocessing as mp
        ctx = mp.get_context('spawn')
        self.conns, self.procs = {}, []
        for name in names:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child,), daemon=True)
            proc.start()
            self.conns[name] = parent; self.procs.append(proc)
    def close(self):
        for c in self.conns.values(): c.send(None)
        for p in self.procs: p.join(timeout=10)

def race(workers, args_, work, repeat, warmup=2, fastest=None):
    "Median seconds of `run(work)` per engine, timing the engines in turns (so a change in machine load hits all); `fastest` gets the minima."
    for name, conn in workers.conns.items(): conn.send(('build', (MAKERS[name], args_, work, warmup)))
    for conn in workers.conns.values(): conn.recv()
    times = {name: [] for name in workers.conns}
    for _ in range(repeat):
        for name, conn in workers.conns.items():
            conn.send(('time', None)); times[name].append(conn.recv())
    if fastest is not None: fastest.update({name: min(ts) for name, ts in times.items()})
    return {name: statistics.median(ts) for name, ts in times.items()}

def matmul_floor(sizes, bs, n_examples, repeat):
    "Milliseconds per epoch of just the matrix products of a training step (the first layer needs no input gradient)."
    import timeit
    r = np.random.default_rng(0)
    W = [r.standard_normal((b, a)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    acts = [r.standard_normal((bs, a)).astype(np.float32) for a in sizes[:-1]]   # each layer's input
    grads = [r.standard_normal((bs, b)).astype(np.float32) for b in sizes[1:]]   # each layer's output gradient
    def step():
        for a, w in zip(acts, W): a @ w.T
        for i, (a, g, w) in enumerate(zip(acts, grads, W)):
            g.T @ a
            if i: g @ w
    per_step = min(timeit.repeat(step, number=200, repeat=max(3, repeat // 5))) / 200
    return per_step * n_examples / bs * 1e3

def rss_mb():
    "Resident memory now, in MB (Linux /proc; the peak from getrusage elsewhere)."
    try:
        with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2 ** 20
    except OSError: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def peak_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def memory(X, y, steps=1000):
    "Our engine, Adam, batch 32: memory after 100 and after `steps` steps, and Tensors still alive."
    from backprop_nb.tensor import Tensor
    run = make_ours([64, 128, 64, 10], 'Adam')
    bs = batches(X, y, 32)
    live = lambda: sum(type(o) is Tensor for o in gc.get_objects())
    out = {}
    for k in range(1, steps + 1):
        run([bs[k % len(bs)]])
        if k == 1: tensors_before = live()   # before the baseline: listing every object takes memory itself
        if k in (100, steps):
            gc.collect()
            out[k] = [rss_mb(), peak_mb(), None]
    out[100][2], out[steps][2] = tensors_before, live()
    return out

# ---------------------------------------------------------------- where the time goes
def per_op(repeat):
    "Microseconds for one recorded `a + b` on (32, 128) float32, and for `(a + b).sum().backward()`."
    import timeit
    from backprop_nb.tensor import Tensor
    r = np.random.default_rng(0)
    a_, b_ = r.standard_normal((32, 128)).astype(np.float32), r.standard_normal((32, 128)).astype(np.float32)
    ours = Tensor(a_, requires_grad=True), Tensor(b_, requires_grad=True)
    cases = {'numpy': (lambda: a_ + b_, None), 'backprop_nb': (lambda: ours[0] + ours[1], lambda: (ours[0] + ours[1]).sum().backward())}
    try:
        import torch
        tt = torch.from_numpy(a_).requires_grad_(), torch.from_numpy(b_).requires_grad_()
        cases['PyTorch eager'] = (lambda: tt[0] + tt[1], lambda: (tt[0] + tt[1]).sum().backward())
    except ImportError: pass
    time_us = lambda f: min(timeit.repeat(f, number=2000, repeat=max(3, repeat // 5))) / 2000 * 1e6
    return {name: (time_us(add), time_us(bwd) if bwd else None) for name, (add, bwd) in cases.items()}

def helpers(repeat):
    "Microseconds for chapter 8's array helpers against the plain numpy they replace, on (32, 128) and (256, 128) float32."
    import timeit
    from backprop_nb.tensor import colsum, rowmax, _select
    time_us = lambda f: min(timeit.repeat(f, number=2000, repeat=max(3, repeat // 5))) / 2000 * 1e6
    r, rows = np.random.default_rng(0), []
    for shape in ((32, 128), (256, 128)):
        g = r.standard_normal(shape).astype(np.float32)
        mask = r.standard_normal(shape) > 0
        rows.append((f"column sums {shape}", time_us(lambda: g.sum(axis=0)), time_us(lambda: colsum(g)), 'colsum'))
        rows.append((f"g where mask, else 0 {shape}", time_us(lambda: np.where(mask, g, 0)), time_us(lambda: _select(mask, g)),
                     '_select (g * mask, checked)'))
        rows.append((f"  (g * mask alone, not exact for inf) {shape}", time_us(lambda: g * mask), float('nan'), ''))
    logits = r.standard_normal((256, 10)).astype(np.float32)
    rows.append(("row maxima (256, 10)", time_us(lambda: logits.max(axis=1, keepdims=True)), time_us(lambda: rowmax(logits)), 'rowmax'))
    return rows

def phase_split(X, y, repeat):
    "Microseconds per digits training step (batch 32, SGD) in each phase, medians over epochs."
    from backprop_nb.tensor_nn import MLP, cross_entropy
    from backprop_nb.optim import SGD
    from backprop_nb.tensor import no_grad
    net = MLP(64, [128, 64, 10])
    with no_grad():
        for lin, (W, b) in zip(net[::2], init_weights([64, 128, 64, 10])): lin.weight[...] = W; lin.bias[...] = b
    engines = {'backprop_nb': (lambda xb, yb: cross_entropy(net(xb), yb), SGD(net.parameters(), lr=LR['SGD']))}
    bs = batches(X, y, 32)
    try:
        import torch
        tnet = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
        tbs = [(torch.from_numpy(xb), torch.from_numpy(yb)) for xb, yb in bs]
        engines['PyTorch eager'] = (lambda xb, yb: torch.nn.functional.cross_entropy(tnet(xb), yb), torch.optim.SGD(tnet.parameters(), lr=LR['SGD']))
    except ImportError: pass
    out = {}
    for name, (forward, opt) in engines.items():
        work = tbs if name == 'PyTorch eager' else bs
        epochs = []
        for _ in range(repeat + 2):   # the first two warm up
            t = np.zeros(4)
            for xb, yb in work:
                t0 = time.perf_counter(); loss = forward(xb, yb)
                t1 = time.perf_counter(); opt.zero_grad()
                t2 = time.perf_counter(); loss.backward()
                t3 = time.perf_counter(); opt.step()
                t4 = time.perf_counter()
                t += (t1 - t0, t2 - t1, t3 - t2, t4 - t3)
            epochs.append(t / len(work) * 1e6)
        out[name] = np.median(epochs[2:], axis=0)
    return out

# ---------------------------------------------------------------- report
def _tables(workers, X, y, source, repeat, quick):
    "The digits and 784-512-512-10 tables, every engine timed in its own process."
    print(f"\n## Digits MLP 64-128-64-10, cross-entropy: ms per epoch ({len(X)} examples, {source})\n")
    print("| optimizer | batch | backprop_nb | numpy by hand | PyTorch eager | torch / ours | ours / numpy | ours / numpy, fastest epochs | torch / numpy |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    results = {}
    for opt_name in ('SGD', 'Adam'):
        for bs in (32, 256):
            best = {}   # the fastest epoch of each engine: what the code costs when the machine interferes least
            r = race(workers, ([64, 128, 64, 10], opt_name), batches(X, y, bs), repeat, fastest=best)
            results[('digits', opt_name, bs)] = r
            o, n, t = r['backprop_nb'] * 1e3, r['numpy by hand'] * 1e3, r.get('PyTorch eager', float('nan')) * 1e3
            print(f"| {opt_name} | {bs} | {o:.2f} | {n:.2f} | {t:.2f} | {t / o:.2f}x | {o / n:.2f}x "
                  f"| {best['backprop_nb'] / best['numpy by hand']:.2f}x | {t / n:.2f}x |", flush=True)
    print("\ntargets: torch / ours >= 2 and ours / numpy <= 1.5. Beating torch by 2x needs torch / numpy >= 2 x (ours / numpy) >= 2:"
          "\nwhere torch is closer than 2x to numpy by hand, 2x is out of reach for any numpy engine.")
    floor = {bs: matmul_floor([64, 128, 64, 10], bs, len(X), repeat) for bs in (32, 256)}
    print("the matrix products alone (3 forward, 5 backward, numpy's BLAS): "
          + ", ".join(f"{ms:.2f} ms per epoch at batch {bs}" for bs, ms in floor.items()))

    rr = np.random.default_rng(1)
    print("\n## MLP 784-512-512-10, SGD, random data: ms per training step\n")
    print("| batch | backprop_nb | numpy by hand | PyTorch eager | torch / ours | ours / numpy | torch / numpy |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for bs in (64, 512):
        steps = 10 if bs == 64 else 3
        Xb = rr.standard_normal((bs, 784)).astype(np.float32)
        work = [(Xb, rr.integers(0, 10, bs))] * (steps if not quick else 2)
        r = race(workers, ([784, 512, 512, 10], 'SGD'), work, repeat, warmup=1)
        results[('big', 'SGD', bs)] = r
        o, n, t = (r[k] * 1e3 / len(work) if k in r else float('nan') for k in ('backprop_nb', 'numpy by hand', 'PyTorch eager'))
        print(f"| {bs} | {o:.3f} | {n:.3f} | {t:.3f} | {t / o:.2f}x | {o / n:.2f}x | {t / n:.2f}x |", flush=True)
    print("\ntarget: ours / numpy <= 1.1")

    return results

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='fewer repeats and steps (a smoke test, noisier)')
    ap.add_argument('--repeat', type=int, default=None, help='timed runs per engine (median reported; default 25, --quick 3)')
    args = ap.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 25)
    names = ['backprop_nb', 'numpy by hand']
    try:
        import torch
        torch.set_num_threads(1)
        names.append('PyTorch eager')
        tver = f"torch {torch.__version__}, {torch.get_num_threads()} thread"
    except ImportError:
        tver = "torch not installed: no PyTorch column"
    try:
        from threadpoolctl import threadpool_info
        blas = ', '.join(f"{i['internal_api']} {i['num_threads']} thread" for i in threadpool_info())
    except ImportError: blas = f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"
    X, y, source = digits()
    t_start, load0 = time.perf_counter(), os.getloadavg()[0]
    print(f"numpy {np.__version__} ({blas}); {tver}; load average {load0:.2f} on {os.cpu_count()} cores; median of {repeat}")

    mem = memory(X, y, 200 if args.quick else 1000)
    workers = Workers(names)
    try: results = _tables(workers, X, y, source, repeat, args.quick)
    finally: workers.close()
    print("\n## Where the time goes\n\nOne operation on (32, 128) float32, µs (best of several runs of 2,000):\n")
    print("| engine | `a + b` (recorded for backward) | `(a + b).sum().backward()` |\n|---|---:|---:|")
    for name, (add, bwd) in per_op(repeat).items():
        print(f"| {name} | {add:.1f} | {'' if bwd is None else f'{bwd:.1f}'} |")
    print("\nChapter 9's array helpers, µs (best of several runs of 2,000):\n")
    print("| what | plain numpy | library helper | helper |\n|---|---:|---:|---|")
    for what, plain, fast, name in helpers(repeat):
        print(f"| {what} | {plain:.2f} | {'' if fast != fast else f'{fast:.2f}'} | {name} |")
    print("\nOne digits training step (batch 32, SGD), µs per step by phase (median over epochs):\n")
    print("| engine | forward + loss | zero_grad | backward | optimizer step | total |\n|---|---:|---:|---:|---:|---:|")
    for name, t in phase_split(X, y, repeat).items():
        print(f"| {name} | {t[0]:.1f} | {t[1]:.1f} | {t[2]:.1f} | {t[3]:.1f} | {t.sum():.1f} |", flush=True)

    (a, pa, na), (b, pb, nb) = mem[min(mem)], mem[max(mem)]
    print("\n## Memory: backprop_nb, digits MLP, Adam, batch 32\n")
    print("| after step | resident MB | peak MB (ru_maxrss) |\n|---:|---:|---:|")
    print(f"| {min(mem)} | {a:.1f} | {pa:.1f} |\n| {max(mem)} | {b:.1f} | {pb:.1f} |")
    print(f"\ngrowth from step {min(mem)} to {max(mem)}: {b - a:+.2f} MB resident, {pb - pa:+.2f} MB peak; "
          f"live Tensors after step 1: {na}, after step {max(mem)}: {nb} (the parameters)")
    print(f"\nload average {load0:.2f} before, {os.getloadavg()[0]:.2f} after; {time.perf_counter() - t_start:.0f} s")
    return results, mem

if __name__ == '__main__':
    main(sys.argv[1:])
