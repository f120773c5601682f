"""The numpy costs behind two tricks of the tensor engine, µs per call (1 thread).

- Column sums (every bias gradient): `g.sum(axis=0)` against the product `ones @ g` (BLAS).
- Row maxima of a batch of logits: `a.max(axis=1)` against the column maxima of a transposed copy.

Both are timed on the shapes a digits MLP meets at batch 32 and 256. Best of several runs.

    python benchmarks/numpy_tricks.py      # or: python benchmarks/run.py numpy_tricks
"""
import os
for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_var, '1')
import argparse, timeit
import numpy as np

def best_us(f, number=2000, repeat=7):
    return min(timeit.repeat(f, number=number, repeat=repeat)) / number * 1e6

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--repeat', type=int, default=7, help='runs of 2,000 calls each; the best is reported')
    args = ap.parse_args(argv)
    r = np.random.default_rng(0)
    print(f"\n## Column sums, float32, µs per call (numpy {np.__version__}, best of {args.repeat})\n")
    print("| shape | `g.sum(axis=0)` | `ones @ g` | ratio |\n|---|---:|---:|---:|")
    out = {}
    for n in (32, 256):
        g, ones = r.standard_normal((n, 128)).astype(np.float32), np.ones(n, np.float32)
        assert np.allclose(ones @ g, g.sum(axis=0), rtol=1e-4, atol=1e-4)
        s, o = best_us(lambda: g.sum(axis=0), repeat=args.repeat), best_us(lambda: ones @ g, repeat=args.repeat)
        out[('sum', n)] = (s, o)
        print(f"| ({n}, 128) | {s:.1f} | {o:.1f} | {s / o:.1f}x |")
    print("\n## Row maxima of logits, float32, µs per call\n")
    print("| shape | `a.max(axis=1)` | `ascontiguousarray(a.T).max(axis=0)` | ratio |\n|---|---:|---:|---:|")
    for n in (32, 256):
        a = r.standard_normal((n, 10)).astype(np.float32)
        assert np.array_equal(np.ascontiguousarray(a.T).max(axis=0), a.max(axis=1))
        m = best_us(lambda: a.max(axis=1), repeat=args.repeat)
        t = best_us(lambda: np.ascontiguousarray(a.T).max(axis=0), repeat=args.repeat)
        out[('max', n)] = (m, t)
        print(f"| ({n}, 10) | {m:.1f} | {t:.1f} | {m / t:.1f}x |")
    return out

if __name__ == '__main__':
    main()
