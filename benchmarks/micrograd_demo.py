"""micrograd's demo, trained by micrograd and by backprop_nb from the same initial weights.

make_moons(100, noise=0.1), MLP(2, [16, 16, 1]), max-margin loss + 1e-4 * L2, 100 full-batch steps,
lr = 1.0 - 0.9 * k / 100. micrograd runs its demo code verbatim; backprop_nb runs the same
training with its library (`forward_batch`, `hinge_loss`, one `dot` node for the L2 term, `SGD`
with `linear_lr`). The losses must agree to 1e-9 at every step.

Each engine runs in its own subprocess, so peak memory (ru_maxrss) is its own; 'growth' is that peak minus
the resident memory just before training (the interpreter, numpy and both libraries). Both subprocesses
import the same modules (numpy, micrograd, backprop_nb), so their baselines match. Default
interpreter settings: the garbage collector stays on.

    python benchmarks/micrograd_demo.py [--steps 100] [--engines backprop_nb,micrograd] [--json]
"""
import argparse, gc, json, os, random, resource, subprocess, sys, tempfile, time
from pathlib import Path

ENGINES = ('backprop_nb', 'micrograd')
TOL = 1e-9

def count_nodes(root):
    "Nodes in a graph of either engine (iterative: micrograd's graphs are deep enough for recursion to hurt)."
    seen, stack = set(), [root]
    while stack:
        n = stack.pop()
        if id(n) in seen: continue
        seen.add(id(n))
        stack.extend(getattr(n, '_parents', None) or getattr(n, '_prev', ()))
    return len(seen)

def setup():
    "The demo's data and micrograd's initial weights (random.seed(1337), as in its demo)."
    import micrograd.nn
    from backprop_nb.data import make_moons
    X, y = make_moons(100, noise=0.1, seed=0)
    random.seed(1337)
    weights = [p.data for p in micrograd.nn.MLP(2, [16, 16, 1]).parameters()]
    return {'X': X.tolist(), 'y': (y * 2 - 1).tolist(), 'weights': weights}

# ---------------------------------------------------------------- the two trainings
def train_micrograd(X, y, weights, steps):
    "micrograd's demo loop, verbatim apart from the copied weights and the recorded losses."
    from micrograd.engine import Value
    from micrograd.nn import MLP
    model = MLP(2, [16, 16, 1])
    for p, w in zip(model.parameters(), weights): p.data = w

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum((p * p for p in model.parameters()))
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    history = []
    for k in range(steps):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.data, acc))
    return history, (lambda: loss()[0])

def train_backprop_nb(X, y, weights, steps):
    from backprop_nb.autograd import dot
    from backprop_nb.nn import MLP
    from backprop_nb.losses import hinge_loss
    from backprop_nb.optim import SGD, linear_lr
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    for p, w in zip(params, weights): p.data = w
    opt, sched = SGD(params, lr=1.0), linear_lr(1.0, 100, end_lr=0.1)   # 1.0 - 0.9 k / 100

    def loss():
        scores = model.forward_batch(X)
        total = hinge_loss(scores, y) + 1e-4 * dot(params, params)   # L2: Σ p·p as one node
        acc = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(y)
        return total, acc

    history = []
    for k in range(steps):
        total, acc = loss()
        opt.zero_grad()
        total.backward()
        opt.lr = sched(k)
        opt.step()
        history.append((total.data, acc))
    return history, (lambda: loss()[0])

TRAIN = {'backprop_nb': train_backprop_nb, 'micrograd': train_micrograd}

def peak_rss_mb():
    """This process's peak resident memory. Linux's VmHWM belongs to the process image, whereas
    ru_maxrss survives exec and so would count the memory of a large parent that started us."""
    try:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith('VmHWM:'): return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError): pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def rss_now_mb():
    "Resident memory now (Linux /proc), else the peak so far."
    try: return int(Path('/proc/self/statm').read_text().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
    except (OSError, ValueError, IndexError): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def child(engine, input_path, steps, trace=False):
    "Runs in the subprocess: one engine, timed, with its own peak memory (or, with `trace`, tracemalloc's peak)."
    import numpy, micrograd.nn, backprop_nb.nn, backprop_nb.losses, backprop_nb.optim  # noqa: F401 (same baseline for both)
    d = json.loads(Path(input_path).read_text())
    gc.collect()
    if trace:
        import tracemalloc
        tracemalloc.start()
        TRAIN[engine](d['X'], d['y'], d['weights'], steps)
        return {'engine': engine, 'traced_peak_mb': tracemalloc.get_traced_memory()[1] / 2**20, 'steps': steps}
    base = rss_now_mb()
    t0 = time.perf_counter()
    history, one_more = TRAIN[engine](d['X'], d['y'], d['weights'], steps)
    secs = time.perf_counter() - t0
    peak = peak_rss_mb()
    nodes = count_nodes(one_more())   # after the timing: one more graph, counted
    return {'engine': engine, 'seconds': secs, 'peak_rss_mb': peak, 'base_rss_mb': base,
            'losses': [h[0] for h in history], 'accuracy': [h[1] for h in history], 'nodes_per_step': nodes,
            'gc_enabled': gc.isenabled()}

# ---------------------------------------------------------------- the parent
def run_child(engine, input_path, steps, trace=False):
    cmd = [sys.executable, __file__, '--child', engine, '--input', input_path, '--steps', str(steps)] + (['--trace'] if trace else [])
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0: raise RuntimeError(f"micrograd_demo: the {engine} run failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=100, help='training steps (default 100, the demo; micrograd needs ~1.5 s each)')
    ap.add_argument('--engines', default=','.join(ENGINES), help='comma-separated subset of ' + ','.join(ENGINES))
    ap.add_argument('--json', action='store_true', help='print the results as JSON instead of a table')
    ap.add_argument('--tracemalloc-steps', type=int, default=0, metavar='K',
                    help='also measure each engine\'s traced Python heap peak over K steps (slow under tracing; 0 = off)')
    ap.add_argument('--child', choices=ENGINES, help=argparse.SUPPRESS)
    ap.add_argument('--trace', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--input', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.steps < 1: ap.error('--steps must be at least 1')
    if args.child:
        print(json.dumps(child(args.child, args.input, args.steps, args.trace)))
        return None
    engines = [e.strip() for e in args.engines.split(',') if e.strip()]
    if not engines or set(engines) - set(ENGINES): ap.error(f'--engines: choose from {",".join(ENGINES)}')

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'demo.json')
        Path(path).write_text(json.dumps(setup()))
        runs = {e: run_child(e, path, args.steps) for e in engines}
        if args.tracemalloc_steps > 0:
            for e in engines: runs[e]['traced_peak_mb'] = run_child(e, path, args.tracemalloc_steps, trace=True)['traced_peak_mb']

    res = {'steps': args.steps, 'tracemalloc_steps': args.tracemalloc_steps, 'runs': runs}
    if len(runs) == 2:
        a, b = runs['backprop_nb'], runs['micrograd']
        diffs = [abs(x - y) for x, y in zip(a['losses'], b['losses'])]
        res.update(max_loss_diff=max(diffs), losses_agree=max(diffs) <= TOL and a['accuracy'] == b['accuracy'],
                   speedup=b['seconds'] / a['seconds'], peak_memory_ratio=a['peak_rss_mb'] / b['peak_rss_mb'],
                   growth_memory_ratio=(a['peak_rss_mb'] - a['base_rss_mb']) / max(b['peak_rss_mb'] - b['base_rss_mb'], 1e-9))
        if 'traced_peak_mb' in a: res['traced_memory_ratio'] = a['traced_peak_mb'] / b['traced_peak_mb']
    if args.json: print(json.dumps(res, indent=1))
    else: print_table(res)
    return res

def print_table(res):
    runs = res['runs']
    print(f"micrograd's demo, {res['steps']} steps, garbage collector on")
    print(f"{'engine':<12} {'time s':>9} {'ms/step':>9} {'peak RSS MB':>12} {'growth MB':>10} {'nodes/step':>11} {'final loss':>12} {'acc':>5}")
    for e, r in runs.items():
        print(f"{e:<12} {r['seconds']:>9.2f} {1000 * r['seconds'] / res['steps']:>9.1f} {r['peak_rss_mb']:>12.1f} "
              f"{r['peak_rss_mb'] - r['base_rss_mb']:>10.1f} {r['nodes_per_step']:>11,} {r['losses'][-1]:>12.9f} {r['accuracy'][-1]:>5.2f}")
    if 'speedup' in res:
        print(f"speed-up {res['speedup']:.1f}x; peak RSS ratio {res['peak_memory_ratio']:.3f} "
              f"(growth during training: {res['growth_memory_ratio']:.3f}); "
              f"nodes/step {runs['micrograd']['nodes_per_step'] / runs['backprop_nb']['nodes_per_step']:.1f}x fewer")
        if 'traced_memory_ratio' in res:
            print(f"tracemalloc peak over {res['tracemalloc_steps']} steps: " + ', '.join(f"{e} {r['traced_peak_mb']:.2f} MB" for e, r in runs.items())
                  + f"; ratio {res['traced_memory_ratio']:.3f}")
        print(f"losses agree to {TOL:g} at every step: {'yes' if res['losses_agree'] else 'NO'} "
              f"(largest difference {res['max_loss_diff']:.2e})")

if __name__ == '__main__':
    main(sys.argv[1:])
