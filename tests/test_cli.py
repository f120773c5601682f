"`backprop-nb train`: the console script end to end (subprocess), bad flags, Ctrl-C, non-finite stops, --init files."
import json, os, signal, subprocess, sys, time, zipfile
from pathlib import Path
import numpy as np
import pytest

from backprop_nb.cli import main
from backprop_nb.nn import MLP, load_npz, save_npz
from backprop_nb.tensor_nn import MLP as TensorMLP
from backprop_nb.trainer import Callback

BIN = Path(sys.executable).parent
SCRIPT = BIN / 'backprop-nb'
FILES = ['boundary.png', 'config.json', 'history.json', 'loss.png', 'model.npz']
FAST = ['--epochs', '3', '--n', '60', '--hidden', '8']
ENV = {**os.environ, 'MPLBACKEND': 'Agg', 'PYTHONDONTWRITEBYTECODE': '1'}

def cli(*args, cwd):
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, '-m', 'backprop_nb.cli']
    return subprocess.run(cmd + list(args), cwd=cwd, capture_output=True, text=True, env=ENV, timeout=300)

def files(d): return sorted(os.listdir(d))

# ---------------------------------------------------------------- the normal run
def test_console_script_is_installed():
    assert SCRIPT.exists(), "run `pip install -e .` so that the backprop-nb entry point exists"

def test_train_writes_the_run(tmp_path):
    r = cli('train', *FAST, '--out', 'run1', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / 'run1'
    assert files(out) == FILES
    h = json.loads((out / 'history.json').read_text())
    assert {'steps', 'epochs', 'stopped_reason', 'stopped_step', 'interrupted', 'final', 'seconds'} <= set(h)
    assert {'loss', 'acc', 'lr'} <= set(h['steps']) and len(h['steps']['loss']) == 3 * 2   # 48 train samples / 32
    assert set(h['epochs']) == {'epoch', 'step', 'train_loss', 'train_acc', 'valid_loss', 'valid_acc', 'time'}
    assert h['stopped_reason'] == 'completed' and h['interrupted'] is False
    c = json.loads((out / 'config.json').read_text())
    for k in ('dataset', 'n', 'noise', 'hidden', 'epochs', 'lr', 'schedule', 'batch_size', 'seed', 'engine', 'loss', 'model', 'out'):
        assert k in c, k
    assert (c['dataset'], c['hidden'], c['noise'], c['loss'], c['engine']) == ('moons', [8], 0.1, 'hinge', 'tensor')
    # the summary: final train and validation loss and accuracy
    assert 'train  loss' in r.stdout and 'valid  loss' in r.stdout and 'accuracy' in r.stdout
    assert 'wrote  run1/' in r.stdout
    # the saved model loads into a network of the same shape
    model = load_npz(TensorMLP(2, [8, 1]), out / 'model.npz')
    assert model.num_parameters() == c['parameters'] == 2 * 8 + 8 + 8 + 1
    with np.load(out / 'model.npz', allow_pickle=False) as z: assert z.files == ['0.weight', '0.bias', '2.weight', '2.bias']

def test_python_dash_m(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'backprop_nb.cli', 'train', *FAST, '--out', 'r', '--quiet'],
                       cwd=tmp_path, capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    assert files(tmp_path / 'r') == FILES

def test_default_out_is_under_runs(tmp_path):
    r = cli('train', *FAST, '--quiet', '--dataset', 'xor', '--seed', '3', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    runs = os.listdir(tmp_path / 'runs')
    assert len(runs) == 1 and runs[0].endswith('-xor-seed3')
    assert files(tmp_path / 'runs' / runs[0]) == FILES

def test_quiet_and_not_a_tty_print_no_bar(tmp_path):
    r = cli('train', *FAST, '--out', 'r', cwd=tmp_path)      # captured: stderr is not a terminal
    assert r.stderr == '' and 'it/s' not in r.stdout and 'step/s' not in r.stdout
    assert 'epoch 3/3' in r.stdout                               # the epoch lines still report progress
    r = cli('train', *FAST, '--out', 'r2', '--quiet', cwd=tmp_path)
    assert 'epoch 3/3' not in r.stdout and 'train  loss' in r.stdout

def test_help_explains_every_flag(tmp_path):
    r = cli('train', '--help', cwd=tmp_path)
    assert r.returncode == 0
    for flag in ('--dataset', '--n', '--noise', '--valid-frac', '--hidden', '--engine', '--loss', '--optimizer', '--lr',
                 '--schedule', '--epochs', '--batch-size', '--patience', '--seed', '--init', '--out', '--log-every', '--quiet'):
        assert flag in r.stdout, flag
    assert cli('--version', cwd=tmp_path).stdout.startswith('backprop-nb ')

@pytest.mark.parametrize('dataset', ['circles', 'spirals', 'blobs'])
def test_other_datasets(tmp_path, dataset):
    assert main(['train', '--dataset', dataset, '--epochs', '2', '--n', '45', '--hidden', '6', '--out', str(tmp_path / 'r'), '--quiet']) == 0
    c = json.loads((tmp_path / 'r' / 'config.json').read_text())
    assert c['loss'] == ('hinge' if dataset == 'circles' else 'cross_entropy')

# ---------------------------------------------------------------- bad flags and values: one line, exit 2, nothing written
BAD = [
    (['train', '--epochs', '0'], "argument --epochs: expected a positive integer, got '0'"),
    (['train', '--epochs', 'ten'], "argument --epochs: expected a positive integer, got 'ten'"),
    (['train', '--lr', '0'], "argument --lr: expected a number in (0, inf)"),
    (['train', '--lr', 'nan'], "argument --lr: expected a number"),
    (['train', '--batch-size', '-3'], "argument --batch-size: expected a positive integer"),
    (['train', '--valid-frac', '1'], "argument --valid-frac: expected a number in [0, 1)"),
    (['train', '--noise', '-0.1'], "argument --noise"),
    (['train', '--hidden', '16,,16'], "argument --hidden: expected comma-separated positive layer sizes"),
    (['train', '--hidden', '0'], "argument --hidden"),
    (['train', '--dataset', 'mnist'], "argument --dataset: invalid choice: 'mnist'"),
    (['train', '--schedule', 'warp'], "argument --schedule: invalid choice"),
    (['train', '--engine', 'gpu'], "argument --engine: invalid choice: 'gpu'"),
    (['train', '--dataset', 'digits', '--n', '100'], "--n and --noise are for the generated datasets"),
    (['train', '--dataset', 'digits', '--noise', '0.1'], "--n and --noise are for the generated datasets"),
    (['train', '--seed', '-1'], "argument --seed: expected an integer >= 0"),
    (['train', '--frobnicate'], "unrecognized arguments: --frobnicate"),
    (['train', '--epochs'], "argument --epochs: expected one argument"),
    (['fly'], "invalid choice: 'fly'"),
    ([], "the following arguments are required: COMMAND"),
    (['train', '--n', '1'], "make_moons: n must be at least 2"),
    (['train', '--n', '3', '--valid-frac', '0.9'], "leave none for training"),
    (['train', '--dataset', 'blobs', '--loss', 'bce'], "use --loss cross_entropy"),
]

@pytest.mark.parametrize('argv,msg', BAD)
def test_bad_flags(tmp_path, argv, msg):
    r = cli(*argv, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert msg in lines[0] and lines[0].startswith('backprop-nb')
    assert r.stdout == '' or 'error' not in r.stdout
    assert not (tmp_path / 'runs').exists()

# ---------------------------------------------------------------- --init with bad or foreign .npz files
def write_bad(path, kind):
    if kind == 'garbage': path.write_bytes(b'this is not a zip file at all')
    elif kind == 'truncated':
        save_npz(MLP(2, [8, 1]), path); path.write_bytes(path.read_bytes()[:200])
    elif kind == 'pickled': np.savez(path, **{'layers.0.neurons.0.w.0': np.array([{'evil': 1}], dtype=object)})
    elif kind == 'mismatched': save_npz(MLP(2, [4, 1]), path)
    elif kind == 'empty':
        with zipfile.ZipFile(path, 'w'): pass
    elif kind == 'npy': np.save(open(path, 'wb'), np.zeros(3))
    return path

@pytest.mark.parametrize('kind', ['garbage', 'truncated', 'pickled', 'mismatched', 'empty', 'npy', 'missing'])
def test_init_rejects_bad_npz(tmp_path, kind):
    p = tmp_path / 'bad.npz'
    if kind != 'missing': write_bad(p, kind)
    r = cli('train', *FAST, '--init', str(p), '--out', 'r', cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('backprop-nb train: error: --init:'), r.stderr
    assert not (tmp_path / 'r').exists()                      # nothing trained, nothing written

def test_init_continues_from_a_run(tmp_path):
    assert main(['train', *FAST, '--out', str(tmp_path / 'a'), '--quiet']) == 0
    assert main(['train', *FAST, '--epochs', '1', '--lr', '1e-12', '--init', str(tmp_path / 'a' / 'model.npz'),
                 '--out', str(tmp_path / 'b'), '--quiet']) == 0
    a, b = [np.load(tmp_path / d / 'model.npz') for d in 'ab']
    assert all(np.allclose(a[k], b[k]) for k in a.files)     # a tiny lr: essentially the same parameters

# ---------------------------------------------------------------- stopping early still writes everything
class InterruptAt(Callback):
    def __init__(self, k): self.k = k
    def on_step_start(self, t):
        if t.step == self.k: raise KeyboardInterrupt

def test_interrupt_still_writes_the_files(tmp_path, capsys):
    status = main(['train', *FAST, '--epochs', '10', '--out', str(tmp_path / 'r'), '--quiet'], callbacks=[InterruptAt(5)])
    assert status == 130
    assert files(tmp_path / 'r') == FILES
    h = json.loads((tmp_path / 'r' / 'history.json').read_text())
    assert h['interrupted'] is True and h['stopped_step'] == 5 and len(h['steps']['loss']) == 5
    out = capsys.readouterr().out
    assert 'stopped in' in out and 'interrupted' in out and 'wrote' in out

def test_real_sigint(tmp_path):
    "Ctrl-C for real: SIGINT to the running process."
    cmd = [str(SCRIPT) if SCRIPT.exists() else sys.executable, *([] if SCRIPT.exists() else ['-m', 'backprop_nb.cli']),
           'train', '--epochs', '100000', '--out', 'r', '--log-every', '0']
    # A process started in the background of a non-interactive shell inherits SIGINT as *ignored*
    # (and Python then never raises KeyboardInterrupt); give the child the default, as a terminal would.
    restore_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
    p = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=restore_sigint)
    try:
        for _ in range(3): assert p.stdout.readline()           # data, model, train lines: training starts now
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == 130, err
    assert files(tmp_path / 'r') == FILES
    h = json.loads((tmp_path / 'r' / 'history.json').read_text())
    assert h['interrupted'] is True and len(h['steps']['loss']) == h['stopped_step'] > 0
    assert 'interrupted (KeyboardInterrupt)' in out

def test_nonfinite_at_the_first_step_still_writes_a_run(tmp_path):
    r = cli('train', *FAST, '--lr', '1e300', '--out', 'r', cwd=tmp_path)     # the first update overflows: no step to plot
    assert r.returncode == 1 and 'non-finite parameters after the update at step 0' in r.stdout
    assert files(tmp_path / 'r') == ['boundary.png', 'config.json', 'history.json', 'model.npz']
    assert 'wrote  r/: model.npz history.json config.json boundary.png' in r.stdout

def test_nonfinite_loss_exit_1_and_a_finite_model(tmp_path):
    r = cli('train', *FAST, '--lr', '1e30', '--out', 'r', cwd=tmp_path)      # float32 overflows on the second step
    assert r.returncode == 1
    assert 'non-finite' in r.stdout and 'at step' in r.stdout
    assert files(tmp_path / 'r') == FILES
    with np.load(tmp_path / 'r' / 'model.npz', allow_pickle=False) as z:
        assert all(np.isfinite(z[k]).all() for k in z.files)
    h = json.loads((tmp_path / 'r' / 'history.json').read_text())
    assert h['stopped_step'] is not None and 'non-finite' in h['stopped_reason']
    assert 'Warning' not in r.stderr                           # the message is in the summary, not a warning dump

def test_early_stopping_flag(tmp_path):
    assert main(['train', *FAST, '--epochs', '200', '--lr', '0.5', '--patience', '2', '--out', str(tmp_path / 'r'), '--quiet']) == 0
    h = json.loads((tmp_path / 'r' / 'history.json').read_text())
    assert h['stopped_reason'].startswith('early stopping') and len(h['epochs']['epoch']) < 200

# ---------------------------------------------------------------- engines and the digits
def test_scalar_engine_is_still_selectable(tmp_path, capsys):
    assert main(['train', *FAST, '--engine', 'scalar', '--out', str(tmp_path / 's'), '--quiet']) == 0
    assert 'MLP(2, [8, 1]): 33 parameters, scalar engine' in capsys.readouterr().out
    c = json.loads((tmp_path / 's' / 'config.json').read_text())
    assert c['engine'] == 'scalar' and c['parameters'] == 33
    load_npz(MLP(2, [8, 1]), tmp_path / 's' / 'model.npz')                  # one array per Value
    with pytest.raises(ValueError, match='does not fit'): load_npz(TensorMLP(2, [8, 1]), tmp_path / 's' / 'model.npz')

def test_engines_get_the_same_defaults_and_both_learn_the_moons(tmp_path):
    accs = {}
    for engine in ('tensor', 'scalar'):
        assert main(['train', '--engine', engine, '--epochs', '20', '--out', str(tmp_path / engine), '--quiet']) == 0
        h = json.loads((tmp_path / engine / 'history.json').read_text())
        accs[engine] = h['final']['train']['acc']
        c = json.loads((tmp_path / engine / 'config.json').read_text())
        assert (c['hidden'], c['optimizer'], c['lr'], c['n'], c['model']) == ([16, 16], 'sgd', 0.1, 200, 'MLP(2, [16, 16, 1])')
    assert min(accs.values()) >= 0.85, accs

def test_default_moons_run_is_near_perfect(tmp_path):
    assert main(['train', '--out', str(tmp_path / 'r'), '--quiet']) == 0
    h = json.loads((tmp_path / 'r' / 'history.json').read_text())
    assert h['final']['train']['acc'] >= 0.98 and h['final']['valid']['acc'] >= 0.95

def test_digits_reach_95_percent(tmp_path):
    r = cli('train', '--dataset', 'digits', '--out', 'd', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert files(tmp_path / 'd') == ['config.json', 'history.json', 'loss.png', 'model.npz']   # no plane: no boundary.png
    assert 'digits: 1797 samples, 10 classes' in r.stdout and 'MLP(64, [64, 10]): 4810 parameters, tensor engine' in r.stdout
    assert 'wrote  d/: model.npz history.json config.json loss.png\n' in r.stdout
    h = json.loads((tmp_path / 'd' / 'history.json').read_text())
    assert h['final']['valid']['acc'] >= 0.95, h['final']
    c = json.loads((tmp_path / 'd' / 'config.json').read_text())
    assert (c['hidden'], c['optimizer'], c['lr'], c['epochs'], c['loss'], c['samples'], c['n']) == ([64], 'adam', 0.01, 20, 'cross_entropy', 1797, None)
    model = load_npz(TensorMLP(64, [64, 10]), tmp_path / 'd' / 'model.npz')
    assert model.num_parameters() == 4810

def test_digits_flags_override_their_defaults(tmp_path):
    assert main(['train', '--dataset', 'digits', '--hidden', '16', '--epochs', '1', '--optimizer', 'sgd', '--lr', '0.05',
                 '--out', str(tmp_path / 'd'), '--quiet']) == 0
    c = json.loads((tmp_path / 'd' / 'config.json').read_text())
    assert (c['hidden'], c['epochs'], c['optimizer'], c['lr'], c['model']) == ([16], 1, 'sgd', 0.05, 'MLP(64, [16, 10])')

def test_digits_without_scikit_learn_says_which_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'sklearn', None)
    monkeypatch.setitem(sys.modules, 'sklearn.datasets', None)
    assert main(['train', '--dataset', 'digits', '--out', str(tmp_path / 'd')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["backprop-nb train: error: --dataset digits: load_digits needs scikit-learn: pip install 'backprop_nb[datasets]'"]
    assert not (tmp_path / 'd').exists()

# ---------------------------------------------------------------- issue 11: D2, D3, D15, D16, D17, and `make test`
def one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr, r.stderr
    for n in needles: assert n in r.stderr, (n, r.stderr)
    assert 'data   ' not in r.stdout                                # refused before anything was trained

def test_bad_out_is_refused_before_training(tmp_path):
    "D2: --out a file, or a path through a file: one line, status 2, before training."
    (tmp_path / 'afile').write_text('mine')
    one_line_error(cli('train', *FAST, '--out', 'afile', '--quiet', cwd=tmp_path), '--out afile', 'not a directory')
    one_line_error(cli('train', *FAST, '--out', 'afile/sub', '--quiet', cwd=tmp_path), '--out afile/sub', 'cannot write there')
    assert (tmp_path / 'afile').read_text() == 'mine'

@pytest.mark.skipif(os.geteuid() == 0, reason='root may write anywhere')
def test_unwritable_out_is_refused_before_training(tmp_path):
    ro = tmp_path / 'ro'; ro.mkdir(); ro.chmod(0o500)
    try: one_line_error(cli('train', *FAST, '--out', 'ro/run', '--quiet', cwd=tmp_path), 'cannot write there')
    finally: ro.chmod(0o700)

def test_reusing_out_is_refused_and_overwrite_replaces_the_run(tmp_path):
    "D3: a second run into the same --out never mixes with the first: refused, or --overwrite clears the old files."
    assert main(['train', *FAST, '--out', str(tmp_path / 'r'), '--quiet']) == 0
    before = {f: (tmp_path / 'r' / f).read_bytes() for f in files(tmp_path / 'r')}
    r = cli('train', *FAST, '--epochs', '1', '--out', 'r', '--quiet', cwd=tmp_path)
    one_line_error(r, '--out r', 'already holds', '--overwrite')
    assert {f: (tmp_path / 'r' / f).read_bytes() for f in files(tmp_path / 'r')} == before      # nothing lost
    # a digits run into a moons folder: with --overwrite the old boundary.png is gone, not left beside the new files
    r = cli('train', '--dataset', 'digits', '--epochs', '1', '--out', 'r', '--overwrite', '--quiet', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert files(tmp_path / 'r') == ['config.json', 'history.json', 'loss.png', 'model.npz']
    assert json.loads((tmp_path / 'r' / 'config.json').read_text())['dataset'] == 'digits'
    (tmp_path / 'r' / 'notes.txt').write_text('mine')                 # --overwrite never removes what it did not write
    one_line_error(cli('train', *FAST, '--out', 'r', '--overwrite', '--quiet', cwd=tmp_path), "'notes.txt'")
    assert (tmp_path / 'r' / 'notes.txt').read_text() == 'mine'

def test_run_stopped_at_step_zero_keeps_no_stale_loss_png(tmp_path):
    "D3: a run that stops at step 0 draws no loss.png, and no older one may remain beside its files."
    assert main(['train', *FAST, '--out', str(tmp_path / 'r'), '--quiet']) == 0
    r = cli('train', *FAST, '--lr', '1e300', '--out', 'r', '--overwrite', '--quiet', cwd=tmp_path)
    assert r.returncode == 1 and 'loss.png' not in files(tmp_path / 'r')

@pytest.mark.parametrize('flags', [['--n', '1000000000000'], ['--hidden', '1000000000000'], ['--hidden', '50000,50000,50000'],
                                   ['--engine', 'scalar', '--hidden', '30000,30000']])
def test_sizes_that_cannot_fit_are_refused_with_the_figure(tmp_path, flags):
    "D15: estimate the memory first; no MemoryError traceback, no OOM kill."
    t0 = time.perf_counter()
    r = cli('train', *flags, '--out', 'r', '--quiet', cwd=tmp_path)
    one_line_error(r, 'GB of memory', 'available')
    assert time.perf_counter() - t0 < 60 and not (tmp_path / 'r').exists()

def test_huge_noise_does_not_crash_plotting(tmp_path):
    "D15: --noise 1e12: the run ends normally with its files (a figure that cannot be drawn is named, not a traceback)."
    r = cli('train', *FAST, '--noise', '1e12', '--out', 'r', '--quiet', cwd=tmp_path)
    assert r.returncode in (0, 1) and 'Traceback' not in r.stderr, r.stderr
    assert {'model.npz', 'history.json', 'config.json'} <= set(files(tmp_path / 'r'))

def test_init_with_a_nan_weight_is_refused(tmp_path):
    "D15: an --init file holding a nan weight: one line naming the parameter, before training."
    model = TensorMLP(2, [8, 1])
    model.state_dict()   # a tensor network's parameters, by name
    sd = {k: v.copy() for k, v in model.state_dict().items()}
    sd['0.weight'][0, 0] = np.nan
    np.savez(tmp_path / 'nan.npz', **sd)
    one_line_error(cli('train', *FAST, '--init', 'nan.npz', '--out', 'r', '--quiet', cwd=tmp_path), "'0.weight'", 'must be finite')

@pytest.mark.parametrize('flag', ['--init', '--out'])
def test_empty_paths_are_refused(tmp_path, flag):
    "D16: --init '' and --out '' were silently ignored."
    one_line_error(cli('train', *FAST, flag, '', '--quiet', cwd=tmp_path), f"argument {flag}: expected a path, got ''")

def test_closed_stdout_loses_nothing(tmp_path):
    "D17: `backprop-nb train | head -1`: the run's files are written and nothing ends in a traceback."
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, '-m', 'backprop_nb.cli']
    p = subprocess.Popen(cmd + ['train', *FAST, '--epochs', '20', '--out', 'r'], cwd=tmp_path, env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline(); p.stdout.close()                           # what `head -1` does
    err = p.stderr.read().decode(); p.wait(timeout=300)
    assert 'Traceback' not in err and 'BrokenPipeError' not in err, err
    assert p.returncode == 0 and files(tmp_path / 'r') == FILES

def test_make_test_installs_no_system_packages():
    "`make test` must not run sudo apt-get on a learner's laptop; CI installs the browser itself."
    root = Path(__file__).parent.parent
    r = subprocess.run(['make', '-n', '-W', 'setup.py', 'test'], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'apt-get' not in r.stdout and 'ensure_chromium' not in r.stdout
    ci = (root / '.ci' / 'run').read_text()
    assert 'ensure_chromium' in ci and 'CI=true make test' in ci
