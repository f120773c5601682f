"""The numpy costs behind three tricks of the tensor engine, µs per call (1 thread).

- Column sums (every bias gradient): `g.sum(axis=0)` against the product `ones @ g` (BLAS).
- Row maxima of a batch of logits: `a.max(axis=1)` against the column maxima of a transposed copy.
- The products of `linear` (forward `x Wᵀ`, backward `G W` and `Gᵀ x`): `@` against `np.dot`, the same
  product for 2-D operands with less work per call before BLAS starts.

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
    print("\n## The products of `linear`, digits MLP layer 64 -> 128 and 64 -> 10, float32, µs per call\n")
    print("| product | batch | `@` | `np.dot` | ratio |\n|---|---:|---:|---:|---:|")
    for n in (32, 256):
        for fan_in, fan_out in ((64, 128), (64, 10)):
            x, W = r.standard_normal((n, fan_in)).astype(np.float32), r.standard_normal((fan_out, fan_in)).astype(np.float32)
            g = r.standard_normal((n, fan_out)).astype(np.float32)
            for name, a, b in ((f'x Wᵀ, W {fan_out}x{fan_in}', x, W.T), ('G W', g, W), ('Gᵀ x', g.T, x)):
                assert np.array_equal(a @ b, np.dot(a, b))
                m = best_us(lambda: a @ b, repeat=args.repeat)
                d = best_us(lambda: np.dot(a, b), repeat=args.repeat)
                out[('dot', name, n)] = (m, d)
                print(f"| {name} | {n} | {m:.1f} | {d:.1f} | {m / d:.2f}x |")
    return out

if __name__ == '__main__':
    main()
