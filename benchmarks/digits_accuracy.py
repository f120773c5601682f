"""`backprop-nb train --dataset digits` with its defaults, for several seeds: set sizes, accuracy, time.

The figures the README and the chapters quote about the handwritten digits (how many images, how
they are split, what validation accuracy the default network reaches and in how long) come from
here. Each seed changes the split, the initial weights and the order of the batches.

    python benchmarks/digits_accuracy.py [--seeds 0,1,2,3,4] [--engine tensor]   # or: python benchmarks/run.py digits_accuracy
"""
import os
for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_var, '1')
import argparse, contextlib, io, json, statistics, tempfile
from pathlib import Path

def run(seed, engine):
    "One default digits run; returns its history.json and the lines it printed."
    from backprop_nb.cli import main
    with tempfile.TemporaryDirectory() as tmp:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = main(['train', '--dataset', 'digits', '--engine', engine, '--seed', str(seed), '--out', tmp, '--quiet'])
        if status: raise RuntimeError(f"digits_accuracy: seed {seed} stopped with status {status}:\n{out.getvalue()}")
        return json.loads((Path(tmp) / 'history.json').read_text()), out.getvalue()

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', default='0,1,2,3,4', help='comma-separated seeds (default 0,1,2,3,4)')
    ap.add_argument('--engine', default='tensor', choices=['tensor', 'scalar'], help='the engine (default tensor, the CLI default)')
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(',') if s.strip()]
    from backprop_nb.data import load_digits, train_valid_split
    X, y = load_digits()
    (Xt, _), (Xv, _) = train_valid_split(X, y, valid_frac=0.2, seed=0)
    print(f"\n## Handwritten digits: {len(X):,} images of {X.shape[1]} pixels, {len(set(y.tolist()))} classes; "
          f"the default split keeps {len(Xv):,} for validation and trains on {len(Xt):,}\n")
    print(f"`backprop-nb train --dataset digits --engine {args.engine}` (its defaults), per seed:\n")
    print("| seed | steps | seconds | train accuracy | validation accuracy |\n|---:|---:|---:|---:|---:|")
    accs, secs = [], []
    for seed in seeds:
        h, _ = run(seed, args.engine)
        acc, tacc = h['final']['valid']['acc'], h['final']['train']['acc']
        accs.append(acc); secs.append(h['seconds'])
        print(f"| {seed} | {len(h['steps']['loss'])} | {h['seconds']:.2f} | {tacc:.1%} | {acc:.1%} |", flush=True)
    print(f"\nvalidation accuracy {min(accs):.1%} to {max(accs):.1%} (median {statistics.median(accs):.1%}); "
          f"{min(secs):.2f} to {max(secs):.2f} s per run")
    return accs, secs

if __name__ == '__main__':
    main()
