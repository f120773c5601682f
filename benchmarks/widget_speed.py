"""How long the widgets take to answer an interaction (target: a redraw within 200 ms on the default
dataset). Measured in-process, as the kernel does the work; the browser only shows the new PNG.

    python benchmarks/widget_speed.py            # or: python benchmarks/run.py widget_speed
"""
import os, statistics, sys, time
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ['BACKPROP_NB_STATIC'] = '0'   # behave as in a live notebook: redraw while training
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(var, '1')


def _timed(fn, n):
    out = []
    for i in range(n):
        t = time.perf_counter(); fn(i); out.append(time.perf_counter() - t)
    return out


def main(argv=None):
    from backprop_nb.widgets import NeuronPlayground, BackpropStepper, LRExplorer, LRFinder
    rows = []
    def row(widget, action, secs, note=''):
        ms = [1000 * s for s in secs]
        rows.append((widget, action, len(ms), statistics.median(ms), max(ms), note))

    pg = NeuronPlayground()
    row('NeuronPlayground', 'move a slider', _timed(lambda i: pg.set(w1=-2 + 0.2 * (i % 20)), 20))
    pg.activation.value = 'tanh'
    row('NeuronPlayground', 'change activation', _timed(lambda i: pg.set(activation=('relu', 'tanh')[i % 2]), 6))

    st = BackpropStepper()
    row('BackpropStepper', 'next step / Step back', _timed(lambda i: st.step() if i < st.n_steps else st.back(), 2 * st.n_steps))
    def reset(i):
        st.position = 3  # from step 3 (the redraw of getting there is not timed)
        st.reset()
    row('BackpropStepper', 'Reset', _timed(reset, 3))

    ex = LRExplorer(epochs=30)
    row('LRExplorer', 'move the lr slider', _timed(lambda i: ex.set_lr(0.01 * (i + 1)), 10), 'updates the status line')
    row('LRExplorer', 'change dataset', _timed(lambda i: ex.set_dataset(('circles', 'moons')[i % 2]), 4))
    first, pending, orig = [], [], ex.redraw
    def spy():  # time from the click to the end of the first redraw it causes
        r = orig()
        if pending: first.append(time.perf_counter() - pending.pop())
        return r
    ex.redraw, runs = spy, []
    for lr in (0.003, 0.05, 2.0):
        ex.set_lr(lr)
        t = time.perf_counter(); pending.append(t)
        runs.append(ex.train()); runs[-1].secs = time.perf_counter() - t
    ex.redraw = orig
    row('LRExplorer', 'Train: first frame', first, 'click -> epoch-0 point drawn')
    row('LRExplorer', 'redraw while training', ex.redraw_times[-40:], f'at most every {ex.min_interval:g} s')
    for r in runs:
        row('LRExplorer', f"whole run, lr={r.settings['lr']:.3g}", [r.secs], f"{len(r.losses) - 1} epochs, {r.status}")

    f = LRFinder.from_explorer(ex)
    t = time.perf_counter(); f.run(); sweep = time.perf_counter() - t
    row('LRFinder', 'whole sweep', [sweep], f'{len(f.lrs)} steps, suggests lr={f.suggestion:.3g}')
    row('LRFinder', 'redraw', f.redraw_times[1:] or f.redraw_times)

    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores)")
    head = ('widget', 'interaction', 'n', 'median ms', 'max ms', 'note')
    cell = lambda v: v if isinstance(v, str) else f'{v:.0f}'
    w = [max(len(cell(r[i])) for r in rows + [head]) for i in range(5)]
    print('  '.join(h.ljust(w[i]) if i < 2 else h.rjust(w[i]) if i < 5 else h for i, h in enumerate(head)))
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}.0f}  {r[4]:>{w[4]}.0f}  {r[5]}")
    return rows


if __name__ == '__main__':
    main(sys.argv[1:])
