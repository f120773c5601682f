"""The cyclic garbage collector's share of each engine's time on micrograd's demo.

Each engine trains micrograd's demo (the same data, model, weights and loop as micrograd_demo.py)
for a few steps twice, each in a fresh subprocess: once with the garbage collector on (the
default) and once with it off. The share is (time on - time off) / time on: the time the
collector costs. Chapter 1 explains where it comes from (a reference cycle per micrograd node).

    python benchmarks/gc_share.py [--steps 3] [--repeat 2]
"""
import argparse, gc, json, os, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import micrograd_demo

def child(engine, steps, collector):
    import numpy, micrograd.nn, backprop_nb.nn, backprop_nb.losses, backprop_nb.optim  # noqa: F401 (imported before the clock starts)
    d = micrograd_demo.setup()
    if not collector: gc.disable()
    t0 = time.perf_counter()
    micrograd_demo.TRAIN[engine](d['X'], d['y'], d['weights'], steps)
    return time.perf_counter() - t0

def run(engine, steps, collector):
    cmd = [sys.executable, __file__, '--child', engine, '--steps', str(steps)] + ([] if collector else ['--gc-off'])
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0: raise RuntimeError(f"gc_share: the {engine} run failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=3, help='training steps per run (default 3; micrograd needs ~1.5 s each with the collector on)')
    ap.add_argument('--repeat', type=int, default=2, help='runs per setting; the fastest is kept')
    ap.add_argument('--child', choices=micrograd_demo.ENGINES, help=argparse.SUPPRESS)
    ap.add_argument('--gc-off', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.steps < 1 or args.repeat < 1: ap.error('--steps and --repeat must be at least 1')
    if args.child:
        print(json.dumps(child(args.child, args.steps, not args.gc_off)))
        return None
    rows = {}
    for engine in micrograd_demo.ENGINES:
        on = min(run(engine, args.steps, True) for _ in range(args.repeat))
        off = min(run(engine, args.steps, False) for _ in range(args.repeat))
        rows[engine] = dict(on=on, off=off, share=(on - off) / on)
    print(f"\n## The garbage collector's share of micrograd's demo ({args.steps} steps, fastest of {args.repeat})\n")
    print("| engine | ms/step, collector on | ms/step, collector off | collector's share |\n|---|---:|---:|---:|")
    for engine, r in rows.items():
        print(f"| {engine} | {1000 * r['on'] / args.steps:.1f} | {1000 * r['off'] / args.steps:.1f} | {100 * r['share']:.0f}% |")
    return rows

if __name__ == '__main__':
    main(sys.argv[1:])
