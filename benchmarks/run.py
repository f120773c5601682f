"""`make bench`: every benchmark, each printing its figures next to its peers measured in the same run.

    python benchmarks/run.py                 # all of them (micrograd's demo alone takes ~3 minutes)
    python benchmarks/run.py graph_speed     # just the ones named (BENCHMARKS below lists them)

Speed is measured here, never asserted in tests. With 2 cores any other busy process distorts
the figures, so numeric libraries are pinned to 1 thread and the load average is printed.
"""
import os, sys, importlib
from pathlib import Path
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(var, '1')
here = Path(__file__).parent
sys.path.insert(0, str(here))

BENCHMARKS = ['graph_speed', 'micrograd_demo', 'gc_share', 'tensor_speed', 'numpy_tricks', 'malloc_spread',
              'digits_accuracy', 'widget_speed', 'trainer_overhead', 'compile_speed']

def main(names=None):
    names = names or [n for n in BENCHMARKS if (here / f'{n}.py').exists()]
    unknown = [n for n in names if not (here / f'{n}.py').exists()]
    if unknown: sys.exit(f"bench: no benchmark named {unknown[0]!r}; available: {', '.join(BENCHMARKS)}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    for name in names:
        print(f"\n# {name}")
        importlib.import_module(name).main([])
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")

if __name__ == '__main__':
    main(sys.argv[1:])
