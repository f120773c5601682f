"""`make bench`: every benchmark, each printing its figures next to its peers measured in the same run.

Speed is measured here, never asserted in tests. Numbers depend on load: with 2 cores, any other
busy process distorts them, so run this on a quiet machine (it pins numeric libraries to 1 thread).
"""
import os, sys, importlib
from pathlib import Path
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(var, '1')
sys.path.insert(0, str(Path(__file__).parent))

BENCHMARKS = ['graph_speed', 'micrograd_demo', 'tensor_speed', 'widget_speed']

def main():
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    for name in BENCHMARKS:
        if not (Path(__file__).parent / f'{name}.py').exists(): continue
        print(f"\n# {name}")
        importlib.import_module(name).main(sys.argv[1:] if name == sys.argv[-1] else [])
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")

if __name__ == '__main__':
    main()
