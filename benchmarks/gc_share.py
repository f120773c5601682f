"""How much of micrograd's demo is the cyclic garbage collector, and how many objects it tracks per node.

The same training as `micrograd_demo.py` (make_moons(100), MLP(2, [16, 16, 1]), hinge loss + L2,
full batch), for a few steps, for micrograd and backprop_nb:
- the time inside the collector, measured with `gc.callbacks` (start to stop of every collection),
  as a share of the training time, garbage collector on (as in real use);
- the same steps again with the collector off: the share it costs, seen from outside;
- one step's graph: its nodes, and the garbage-collector-tracked objects it adds (per node).

    python benchmarks/gc_share.py [--steps 5]      # or: python benchmarks/run.py gc_share
"""
import argparse, gc, time
from micrograd_demo import setup, TRAIN, count_nodes

class CollectorClock:
    "Adds up the time spent inside the cyclic garbage collector while installed."
    def __init__(self): self.seconds, self.collections, self._t0 = 0.0, 0, None
    def __call__(self, phase, info):
        if phase == 'start': self._t0 = time.perf_counter()
        elif self._t0 is not None: self.seconds += time.perf_counter() - self._t0; self.collections += 1; self._t0 = None
    def __enter__(self): gc.callbacks.append(self); return self
    def __exit__(self, *exc): gc.callbacks.remove(self)

def timed(engine, d, steps, collector_on):
    gc.collect()
    (gc.enable if collector_on else gc.disable)()
    try:
        with CollectorClock() as clock:
            t0 = time.perf_counter()
            _, one_more = TRAIN[engine](d['X'], d['y'], d['weights'], steps)
            secs = time.perf_counter() - t0
    finally: gc.enable()
    return secs, clock, one_more

def tracked_per_node(one_more):
    "Nodes of one step's graph, and the gc-tracked objects that holding it adds."
    gc.collect(); gc.disable()
    try:
        before = len(gc.get_objects())
        root = one_more()
        after = len(gc.get_objects())
        nodes = count_nodes(root)
    finally: gc.enable()
    del root; gc.collect()
    return nodes, after - before

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=5, help='training steps per run (micrograd needs ~1.5 s each)')
    args = ap.parse_args(argv)
    d = setup()
    print(f"\n## The garbage collector in micrograd's demo ({args.steps} steps, one run each, GC on then off)\n")
    print("| engine | s/step, GC on | of which in the collector | collections | s/step, GC off | "
          "GC's share from outside | nodes/step | tracked objects per node |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = {}
    for engine in ('micrograd', 'backprop_nb'):
        on, clock, one_more = timed(engine, d, args.steps, True)
        off, _, _ = timed(engine, d, args.steps, False)
        nodes, tracked = tracked_per_node(one_more)
        rows[engine] = dict(on=on, gc=clock.seconds, off=off, nodes=nodes, per_node=tracked / nodes)
        print(f"| {engine} | {on / args.steps:.3f} | {clock.seconds / on:.0%} | {clock.collections:,} | {off / args.steps:.3f} | "
              f"{1 - off / on:.0%} | {nodes:,} | {tracked / nodes:.1f} |", flush=True)
    return rows

if __name__ == '__main__':
    main()
