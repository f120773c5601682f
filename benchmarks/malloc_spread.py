"""Run-to-run spread of one figure (our engine, digits MLP, SGD, batch 256, ms per epoch), with and without fixed malloc thresholds.

Arrays of (256, 128) float32 are 128 KiB, glibc's starting threshold for giving an allocation pages
of its own (mmap); the threshold then moves with what the process frees, so the same code can be
fast or slow from one process to the next. Each run is a fresh process (as a user's would be):
`tensor_speed.py`'s network and data, 2 untimed epochs, then the median of `--repeat` epochs.
The second set of runs fixes the thresholds (MALLOC_MMAP_THRESHOLD_=4194304,
MALLOC_TRIM_THRESHOLD_=16777216).

    python benchmarks/malloc_spread.py [--runs 5] [--repeat 25]   # or: python benchmarks/run.py malloc_spread
"""
import argparse, os, subprocess, sys
from pathlib import Path

FIXED = {'MALLOC_MMAP_THRESHOLD_': '4194304', 'MALLOC_TRIM_THRESHOLD_': '16777216'}
CHILD = """
import time, statistics
from tensor_speed import digits, make_ours, batches
X, y, _ = digits()
run, work = make_ours([64, 128, 64, 10], 'SGD'), batches(X, y, {bs})
for _ in range(2): run(work)
ts = []
for _ in range({repeat}):
    t0 = time.perf_counter(); run(work); ts.append(time.perf_counter() - t0)
print(statistics.median(ts) * 1e3)
"""

def one_run(env_extra, bs, repeat):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'OPENBLAS_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', **env_extra}
    for k in FIXED:
        if k not in env_extra: env.pop(k, None)
    out = subprocess.run([sys.executable, '-c', CHILD.format(bs=bs, repeat=repeat)], cwd=Path(__file__).parent,
                         env=env, capture_output=True, text=True)
    if out.returncode: raise RuntimeError(f"malloc_spread: a run failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=5, help='fresh processes per setting (default 5)')
    ap.add_argument('--repeat', type=int, default=25, help='timed epochs per process, median reported (default 25)')
    ap.add_argument('--batch', type=int, default=256)
    args = ap.parse_args(argv)
    print(f"\n## Our engine, digits MLP 64-128-64-10, SGD, batch {args.batch}: ms per epoch, {args.runs} fresh processes each "
          f"(load average {os.getloadavg()[0]:.2f})\n")
    print("| malloc thresholds | runs | fastest | slowest | slowest / fastest |\n|---|---|---:|---:|---:|")
    out = {}
    for label, extra in (('glibc default (moving)', {}), ('fixed', FIXED)):
        ms = [one_run(extra, args.batch, args.repeat) for _ in range(args.runs)]
        out[label] = ms
        print(f"| {label} | {', '.join(f'{m:.2f}' for m in ms)} | {min(ms):.2f} | {max(ms):.2f} | {max(ms) / min(ms):.2f}x |", flush=True)
    return out

if __name__ == '__main__':
    main()
