"""Build and backpropagate a 100,000-node graph; nodes per second for backprop_nb and micrograd.

Both engines build the same graph: N small neurons relu(w*x + b) joined by a pairwise sum (a
shallow tree, so micrograd's recursive topological sort does not hit the recursion limit).
Default interpreter settings: the garbage collector stays on, as in real use.

    python benchmarks/graph_speed.py [--nodes 100000] [--repeat 5]
"""
import argparse, statistics, time
from micrograd_demo import count_nodes   # nodes of either engine's graph

def pairwise_sum(terms):
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]

def build(Value, n_terms):
    terms = [(Value(0.001 * i) * Value(0.5) + Value(-0.1)).relu() for i in range(n_terms)]
    return pairwise_sum(terms)

def measure(Value, n_terms, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        root = build(Value, n_terms)
        root.backward()
        times.append(time.perf_counter() - t0)
        nodes = count_nodes(root)
        del root
    return nodes, statistics.median(times)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--nodes', type=int, default=100_000, help='approximate graph size (default 100000)')
    ap.add_argument('--repeat', type=int, default=5, help='runs per engine; the median is reported')
    args = ap.parse_args(argv)
    n_terms = args.nodes // 7   # 3 leaves + mul + add + relu + one pairwise add per term
    from backprop_nb.autograd import Value as Ours
    from micrograd.engine import Value as Micro
    rows = {}
    for name, V in (('backprop_nb', Ours), ('micrograd', Micro)):
        nodes, secs = measure(V, n_terms, args.repeat)
        rows[name] = dict(nodes=nodes, seconds=secs, nodes_per_s=nodes / secs)
    print(f"\n## Build + backward of a {rows['backprop_nb']['nodes']:,}-node graph (median of {args.repeat}, GC on)\n")
    print("| engine | nodes | seconds | nodes/s | speed-up vs micrograd |\n|---|---:|---:|---:|---:|")
    base = rows['micrograd']['seconds']
    for name, r in rows.items():
        print(f"| {name} | {r['nodes']:,} | {r['seconds']:.3f} | {r['nodes_per_s']:,.0f} | {base / r['seconds']:.1f}x |")
    return rows

if __name__ == '__main__':
    main()
