"""Compiled replay (`backprop_nb.compile`) against its peers, measured in one run.

1. micrograd's demo (moons, MLP(2, [16, 16, 1]), 100 full-batch steps, the same initial weights as
   micrograd_demo.py): micrograd, our eager engine, and our engine recording the graph once and then
   replaying it with `compile_graph` (the time includes recording and compiling). Each engine runs
   in its own subprocess. The compiled losses must equal the eager ones to 1e-9 at every step.
2. Digits MLP 64-128-64-10, cross-entropy, SGD, batch 32 and 256: ms per epoch of 1,437 examples for
   the compiled replay, our eager engine, numpy written by hand and PyTorch eager, each in a worker
   process of its own, timed in turns; median and min of the repeats (the ratio compiled / numpy of
   both: the min is the steadier on a loaded machine). The last, smaller batch of an
   epoch gets a second compiled graph (one per batch shape, as `jax.jit` keeps one per input shape).
3. Memory of 1,000 replayed steps (digits, batch 32): the Python heap traced by tracemalloc after
   step 100 and after step 1,000.

    python benchmarks/compile_speed.py [--quick] [--repeat 15] [--micrograd-steps 100]
"""
import os
for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_var, '1')
import argparse, json, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).parent))
import micrograd_demo
import tensor_speed
from tensor_speed import digits, batches, init_weights, LR

TOL = 1e-9

# ---------------------------------------------------------------- 1. micrograd's demo
def train_compiled(X, y, weights, steps):
    "The demo of micrograd_demo.train_backprop_nb, with the graph recorded once and replayed by compile_graph."
    from backprop_nb.autograd import dot
    from backprop_nb.nn import MLP
    from backprop_nb.losses import hinge_loss
    from backprop_nb.optim import SGD, linear_lr
    from backprop_nb.compile import compile_graph
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    for p, w in zip(params, weights): p.data = w
    opt, sched = SGD(params, lr=1.0), linear_lr(1.0, 100, end_lr=0.1)
    scores = model.forward_batch(X)
    cg = compile_graph(hinge_loss(scores, y) + 1e-4 * dot(params, params))
    where, positive = np.array([cg.index[s] for s in scores]), np.array(y) > 0
    history = []
    for k in range(steps):
        loss = cg.forward()
        acc = float(np.mean(positive == (cg.V[where] > 0)))
        opt.zero_grad()
        cg.backward()
        opt.lr = sched(k)
        opt.step()
        history.append((loss, acc))
    return history, cg

def demo_child(input_path, steps):
    import gc
    import backprop_nb.nn, backprop_nb.losses, backprop_nb.optim, micrograd.nn  # noqa: F401 (the same imports as micrograd_demo's children)
    d = json.loads(Path(input_path).read_text())
    gc.collect()
    t0 = time.perf_counter()
    history, cg = train_compiled(d['X'], d['y'], d['weights'], steps)
    secs = time.perf_counter() - t0
    return {'seconds': secs, 'losses': [h[0] for h in history], 'accuracy': [h[1] for h in history],
            'nodes': len(cg.index), 'groups': len(cg.groups), 'levels': cg.n_levels}

def demo(micrograd_steps, steps=100):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'demo.json')
        Path(path).write_text(json.dumps(micrograd_demo.setup()))
        cmd = [sys.executable, __file__, '--demo-child', path, '--steps', str(steps)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if out.returncode: raise RuntimeError(f"compile_speed: the compiled demo failed:\n{out.stderr}")
        runs = {'compiled replay': json.loads(out.stdout.strip().splitlines()[-1])}
        runs['backprop_nb eager'] = micrograd_demo.run_child('backprop_nb', path, steps)
        runs['micrograd'] = micrograd_demo.run_child('micrograd', path, micrograd_steps)
    runs['micrograd']['steps'] = micrograd_steps
    c, e, m = runs['compiled replay'], runs['backprop_nb eager'], runs['micrograd']
    per_step = {name: r['seconds'] / r.get('steps', steps) for name, r in runs.items()}
    diff_eager = max(abs(a - b) for a, b in zip(c['losses'], e['losses']))
    diff_micro = max(abs(a - b) for a, b in zip(c['losses'], m['losses']))
    print(f"\n## micrograd's demo, {steps} steps (micrograd timed over {micrograd_steps}): ms per step\n")
    last = micrograd_steps - 1
    print(f"| engine | ms per step | micrograd / engine | loss at step {last} | accuracy |\n|---|---:|---:|---:|---:|")
    for name, r in runs.items():
        print(f"| {name} | {per_step[name] * 1e3:.2f} | {per_step['micrograd'] / per_step[name]:.0f}x | "
              f"{r['losses'][last]:.9f} | {r['accuracy'][last]:.2f} |")
    print(f"\ncompiled graph: {c['nodes']:,} nodes in {c['groups']} groups over {c['levels']} levels; the compiled time "
          "includes recording and compiling it once")
    print(f"compiled losses vs eager: largest difference {diff_eager:.2e} over {steps} steps "
          f"({'within' if diff_eager <= TOL else 'NOT within'} {TOL:g}); vs micrograd {diff_micro:.2e} over {micrograd_steps}; "
          f"accuracy equal to eager's at every step: {'yes' if c['accuracy'] == e['accuracy'] else 'NO'}")
    return {'per_step': per_step, 'diff_eager': diff_eager, 'diff_micrograd': diff_micro}

# ---------------------------------------------------------------- 2. digits, compiled
def make_compiled(sizes, opt_name):
    "Our tensor MLP, its graph recorded once per batch shape and replayed by compile_graph."
    from backprop_nb.tensor import Tensor, no_grad
    from backprop_nb.tensor_nn import MLP, cross_entropy
    from backprop_nb.optim import SGD, Adam
    from backprop_nb.compile import compile_graph
    net = MLP(sizes[0], sizes[1:])
    with no_grad():
        for lin, (W, b) in zip(net[::2], init_weights(sizes)): lin.weight[...] = W; lin.bias[...] = b
    opt = (SGD if opt_name == 'SGD' else Adam)(net.parameters(), lr=LR[opt_name])
    graphs = {}   # batch shape -> (compiled graph, its input leaf)

    def graph_for(xb, yb):
        key = xb.shape
        if key not in graphs:
            x, labels = Tensor(xb.copy()), yb.astype(np.intp)      # intp: cross_entropy keeps this very array
            graphs[key] = (compile_graph(cross_entropy(net(x), labels)), x)
        return graphs[key]

    def run(bs):
        for xb, yb in bs:
            cg, x = graph_for(xb, yb)
            x.data = xb; cg.set_labels(yb)                         # the new batch, into the recorded graph (labels checked)
            loss = cg.forward()
            opt.zero_grad(); cg.backward(); opt.step()
        return float(loss)
    return run

MAKERS = {'compiled replay': 'compile_speed:make_compiled', 'backprop_nb eager': 'make_ours', 'numpy by hand': 'make_numpy',
          'PyTorch eager': 'make_torch'}   # run by tensor_speed's worker: its own makers by name, ours as 'module:name'

def race(names, args_, work, repeat, warmup=2):
    "Seconds of `run(work)` per engine, each in its own spawned process, timed in turns: {name: [times]}."
    import multiprocessing as mp
    ctx = mp.get_context('spawn')
    conns, procs = {}, []
    for name in names:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=tensor_speed._serve, args=(child,), daemon=True); proc.start()
        conns[name] = parent; procs.append(proc)
    try:
        for name, conn in conns.items(): conn.send(('build', (MAKERS[name], args_, work, warmup)))
        for conn in conns.values(): conn.recv()
        times = {name: [] for name in names}
        for _ in range(repeat):
            for name, conn in conns.items():
                conn.send(('time', None)); times[name].append(conn.recv())
    finally:
        for c in conns.values(): c.send(None)
        for p in procs: p.join(timeout=10)
    return times

def digits_table(repeat):
    X, y, source = digits()
    names = list(MAKERS)
    try: import torch  # noqa: F401
    except ImportError: names.remove('PyTorch eager')
    print(f"\n## Digits MLP 64-128-64-10, cross-entropy, SGD: ms per epoch ({len(X)} examples, {source}); median (min) of {repeat}\n")
    print("| batch | " + " | ".join(names) + " | compiled / numpy (fastest) | eager / compiled | torch / compiled |")
    print("|---:|" + "---:|" * (len(names) + 3))
    out = {}
    for bs in (32, 256):
        t = race(names, ([64, 128, 64, 10], 'SGD'), batches(X, y, bs), repeat)
        med = {k: statistics.median(v) * 1e3 for k, v in t.items()}
        low = {k: min(v) * 1e3 for k, v in t.items()}
        c = med['compiled replay']
        torch_ratio = f"{med['PyTorch eager'] / c:.2f}x" if 'PyTorch eager' in med else ''
        print(f"| {bs} | " + " | ".join(f"{med[k]:.2f} ({low[k]:.2f})" for k in names)
              + f" | {c / med['numpy by hand']:.2f}x ({low['compiled replay'] / low['numpy by hand']:.2f}x) | "
              f"{med['backprop_nb eager'] / c:.2f}x | {torch_ratio} |", flush=True)
        out[bs] = {'median_ms': med, 'min_ms': low}
    return out

def layout_row(repeat):
    "µs for x @ Wᵀ through the transposed view W.T, and with Wᵀ first copied row by row (the two layouts compile_graph times)."
    import timeit
    r = np.random.default_rng(0)
    print("\nThe two layouts of Wᵀ a compiled `linear` chooses between (it times both when it compiles): µs per "
          "np.dot(x, ., out=y), float32, best of several runs\n")
    print("| W | batch | `x @ W.T` | copy Wᵀ, then `x @ Wt` | faster |\n|---|---:|---:|---:|---|")
    for shape in ((128, 64), (10, 64)):
        W = r.standard_normal(shape).astype(np.float32)
        WT = np.empty(shape[::-1], np.float32)
        for bs in (32, 256):
            x, y = r.standard_normal((bs, shape[1])).astype(np.float32), np.empty((bs, shape[0]), np.float32)
            def copied(): np.copyto(WT, W.T); np.dot(x, WT, out=y)
            t = {k: min(timeit.repeat(f, number=1000, repeat=max(3, repeat))) / 1000 * 1e6
                 for k, f in (('view', lambda: np.dot(x, W.T, out=y)), ('copy', copied))}
            print(f"| {shape[0]}x{shape[1]} | {bs} | {t['view']:.1f} | {t['copy']:.1f} | {min(t, key=t.get)} |")

# ---------------------------------------------------------------- 3. memory
def memory(steps=1000):
    "tracemalloc's current and peak traced memory after step 100 and after `steps` replayed steps (digits, batch 32)."
    import tracemalloc
    X, y, _ = digits()
    run, bs = make_compiled([64, 128, 64, 10], 'SGD'), batches(X, y, 32)[:-1]   # full batches: one graph
    run(bs[:1])
    tracemalloc.start()
    marks = {}
    for k in range(1, steps + 1):
        run([bs[k % len(bs)]])
        if k in (100, steps): marks[k] = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    (a, pa), (b, pb) = marks[100], marks[steps]
    print("\n## Memory: compiled replay, digits MLP, SGD, batch 32 (tracemalloc)\n")
    print(f"traced after step 100: {a / 1024:.1f} KiB (peak {pa / 1024:.1f}); after step {steps}: {b / 1024:.1f} KiB "
          f"(peak {pb / 1024:.1f}); growth {(b - a) / 1024:+.1f} KiB over {steps - 100} steps")
    return marks

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='fewer repeats, micrograd over 5 steps (a smoke test)')
    ap.add_argument('--repeat', type=int, default=None, help='timed epochs per engine (default 15, --quick 3)')
    ap.add_argument('--micrograd-steps', type=int, default=None, help='steps micrograd is timed over (default 100, --quick 5)')
    ap.add_argument('--demo-child', help=argparse.SUPPRESS)
    ap.add_argument('--steps', type=int, default=100, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.demo_child:
        print(json.dumps(demo_child(args.demo_child, args.steps)))
        return None
    repeat = args.repeat or (3 if args.quick else 15)
    msteps = args.micrograd_steps or (5 if args.quick else 100)
    t_start, load0 = time.perf_counter(), os.getloadavg()[0]
    print(f"numpy {np.__version__}, 1 thread; load average {load0:.2f} on {os.cpu_count()} cores")
    res = {'demo': demo(msteps), 'digits': digits_table(repeat)}
    layout_row(repeat)
    res['memory'] = memory(300 if args.quick else 1000)
    print(f"\nload average {load0:.2f} before, {os.getloadavg()[0]:.2f} after; {time.perf_counter() - t_start:.0f} s")
    return res

if __name__ == '__main__':
    main(sys.argv[1:])
