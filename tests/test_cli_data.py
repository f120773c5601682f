"`backprop-nb train --data` and `backprop-nb predict`: your own CSV/.npz files, the saved standardisation, load_run, bad files."
import csv, json, os, re, subprocess, sys
from pathlib import Path
import numpy as np
import pytest

from backprop_nb.cli import main, load_run, load_table, read_csv, standardizer, standardize, r2_score

BIN = Path(sys.executable).parent
SCRIPT = BIN / 'backprop-nb'
ENV = {**os.environ, 'MPLBACKEND': 'Agg', 'PYTHONDONTWRITEBYTECODE': '1'}
FAST = ['--epochs', '30', '--quiet']

def cli(*args, cwd):
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, '-m', 'backprop_nb.cli']
    return subprocess.run(cmd + list(args), cwd=cwd, capture_output=True, text=True, env=ENV, timeout=300)

def write_csv(path, header, rows):
    with open(path, 'w', newline='') as f: csv.writer(f).writerows([header, *rows])
    return path

def iris_rows():
    from sklearn.datasets import load_iris
    d = load_iris()
    return ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'], \
           [[*x, d.target_names[t]] for x, t in zip(d.data, d.target)]

@pytest.fixture(scope='module')
def iris(tmp_path_factory):
    d = tmp_path_factory.mktemp('iris')
    write_csv(d / 'iris.csv', *iris_rows())
    assert main(['train', '--data', str(d / 'iris.csv'), '--target', 'species', '--out', str(d / 'run'), '--quiet']) == 0
    return d

def one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in r.stderr and lines[0].startswith('backprop-nb'), r.stderr
    for n in needles: assert n in lines[0], (n, lines[0])
    assert 'data   ' not in r.stdout

# ---------------------------------------------------------------- classification on a CSV
def test_iris_run_records_what_predict_needs(iris):
    c = json.loads((iris / 'run' / 'config.json').read_text())
    assert c['features'] == ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
    assert c['classes'] == ['setosa', 'versicolor', 'virginica'] and c['target'] == 'species' and c['task'] == 'classification'
    assert c['layers'] == [4, 32, 3] and c['loss'] == 'cross_entropy' and c['engine'] == 'tensor'
    h = json.loads((iris / 'run' / 'history.json').read_text())
    assert h['final']['train']['acc'] >= 0.95 and h['final']['valid']['acc'] >= 0.85, h['final']
    assert sorted(os.listdir(iris / 'run')) == ['config.json', 'history.json', 'loss.png', 'model.npz']

def test_standardisation_is_the_training_splits(iris):
    "The saved mean/std are those of the 120 training rows (the same split as train_valid_split), not of all 150."
    from backprop_nb.data import train_valid_split
    c = json.loads((iris / 'run' / 'config.json').read_text())
    t = load_table(iris / 'iris.csv', 'species')
    (Xt, _), _ = train_valid_split(t['X'], t['y'], valid_frac=0.2, seed=0)
    np.testing.assert_allclose(c['standardize']['mean'], Xt.mean(0), rtol=1e-12)
    np.testing.assert_allclose(c['standardize']['std'], Xt.std(0), rtol=1e-12)
    assert not np.allclose(c['standardize']['mean'], t['X'].mean(0), rtol=1e-6)

def test_load_run_predicts_on_raw_features(iris):
    run = load_run(iris / 'run')
    header, rows = iris_rows()
    X = np.array([r[:4] for r in rows], dtype=float)
    pred = run.predict(X)
    assert np.mean(pred == np.array([r[4] for r in rows])) >= 0.93
    p = run.predict_proba(X)
    assert p.shape == (150, 3) and np.allclose(p.sum(1), 1) and (p.argmax(1) == [run.classes.index(c) for c in pred]).all()
    # the same columns by name, in any order, give the same answers
    cols = {h: X[:, j] for j, h in enumerate(header[:4])}
    assert (run.predict(dict(reversed(cols.items()))) == pred).all()
    # the standardisation is applied: the network on raw (unstandardised) features would answer differently
    from backprop_nb.autograd import no_grad
    with no_grad(): raw = run.model.forward_batch(X).data.argmax(1)
    assert (raw != [run.classes.index(c) for c in pred]).any()
    with pytest.raises(ValueError, match="no column 'petal_width'"): run.predict({k: v for k, v in cols.items() if k != 'petal_width'})
    with pytest.raises(ValueError, match=r'shape \(samples, 4\)'): run.predict(X[:, :3])

def test_predict_command_writes_a_csv_and_reports_accuracy(iris):
    header, rows = iris_rows()
    shuffled = [[r[4], r[3], r[0], 'id%d' % i, r[2], r[1]] for i, r in enumerate(rows)]   # other order, an extra column
    write_csv(iris / 'new.csv', ['species', 'petal_width', 'sepal_length', 'id', 'petal_length', 'sepal_width'], shuffled)
    r = cli('predict', '--run', 'run', '--data', 'new.csv', '--out', 'pred.csv', cwd=iris)
    assert r.returncode == 0, r.stderr
    assert 'accuracy' in r.stdout and 'ignored columns: id' in r.stdout
    acc = float(r.stdout.split('accuracy ')[1].split('%')[0])
    with open(iris / 'pred.csv', newline='') as f: out = list(csv.reader(f))
    assert out[0] == ['prediction', 'p_setosa', 'p_versicolor', 'p_virginica'] and len(out) == 151
    hits = np.mean([o[0] == r_[4] for o, r_ in zip(out[1:], rows)])
    assert abs(100 * hits - acc) < 0.06 and hits >= 0.93
    assert all(abs(sum(map(float, o[1:])) - 1) < 1e-4 for o in out[1:])
    # without the target: predictions, no accuracy; without --out: the CSV on stdout, the summary on stderr
    write_csv(iris / 'notarget.csv', header[:4], [r_[:4] for r_ in rows[:5]])
    r = cli('predict', '--run', 'run', '--data', 'notarget.csv', cwd=iris)
    assert r.returncode == 0 and r.stdout.splitlines()[0].startswith('prediction,') and len(r.stdout.splitlines()) == 6
    assert 'accuracy' not in r.stderr and 'predicted 5 rows' in r.stderr
    # an existing --out is replaced only with --overwrite
    one_line_error(cli('predict', '--run', 'run', '--data', 'new.csv', '--out', 'pred.csv', cwd=iris), '--out pred.csv', '--overwrite')
    assert cli('predict', '--run', 'run', '--data', 'new.csv', '--out', 'pred.csv', '--overwrite', cwd=iris).returncode == 0

def test_predict_refuses_missing_columns_and_bad_runs(iris):
    header, rows = iris_rows()
    write_csv(iris / 'less.csv', ['sepal_length', 'petal_length'], [[r[0], r[2]] for r in rows])
    one_line_error(cli('predict', '--run', 'run', '--data', 'less.csv', cwd=iris), "no column 'sepal_width', 'petal_width'")
    write_csv(iris / 'hole.csv', header[:4], [rows[0][:4], ['', 1, 2, 3]])
    one_line_error(cli('predict', '--run', 'run', '--data', 'hole.csv', cwd=iris), 'line 3', "'sepal_length'")
    one_line_error(cli('predict', '--run', 'nowhere', '--data', 'less.csv', cwd=iris), '--run nowhere', 'not a run folder')
    one_line_error(cli('predict', '--run', 'run', '--data', 'missing.csv', cwd=iris), '--data missing.csv', 'No such file')
    one_line_error(cli('predict', '--run', 'run', cwd=iris), 'required: --data')

def test_class_order_is_stable_and_integers_sort_numerically(tmp_path):
    rows = [[i, c] for i, c in enumerate(['10', '2', '-1', '2.0', '10', '-1'] * 3)]
    t = load_table(write_csv(tmp_path / 'a.csv', ['x', 'y'], rows), 'y')
    assert t['classes'] == ['-1', '2', '10'] and list(t['y'][:6]) == [2, 1, 0, 1, 2, 0]
    rows = [[i, c] for i, c in enumerate(['b', 'a', 'c'] * 3)]
    assert load_table(write_csv(tmp_path / 'b.csv', ['x', 'y'], rows), 'y')['classes'] == ['a', 'b', 'c']

def test_binary_classes_on_the_scalar_engine_and_hinge(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2)); y = np.where(X[:, 0] + X[:, 1] > 0, 'yes', 'no')
    write_csv(tmp_path / 'b.csv', ['a', 'b', 'label'], [[*x, c] for x, c in zip(X, y)])
    assert main(['train', '--data', str(tmp_path / 'b.csv'), '--target', 'label', '--engine', 'scalar', '--loss', 'hinge',
                 '--epochs', '20', '--out', str(tmp_path / 'r'), '--quiet']) == 0
    assert 'boundary.png' in os.listdir(tmp_path / 'r')                  # two features: a plane to draw on
    run = load_run(tmp_path / 'r')
    assert run.config['layers'] == [2, 32, 1] and np.mean(run.predict(X) == y) >= 0.9
    with pytest.raises(ValueError, match='scores, not probabilities'): run.predict_proba(X)
    r = cli('predict', '--run', 'r', '--data', 'b.csv', cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.splitlines()[0] == 'prediction,score', r.stderr

# ---------------------------------------------------------------- regression
def test_regression_reports_r2_and_predicts_in_the_targets_units(tmp_path):
    header, rows = iris_rows()
    write_csv(tmp_path / 'm.csv', header[:4], [[*r[:3], 100 * r[3]] for r in rows])    # petal width in 1/100 cm: a large scale
    r = cli('train', '--data', 'm.csv', '--target', 'petal_width', '--task', 'regression', '--out', 'r', '--quiet', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "target 'petal_width' (regression)" in r.stdout and 'R² ' in r.stdout and 'accuracy' not in r.stdout
    h = json.loads((tmp_path / 'r' / 'history.json').read_text())
    assert h['final']['valid']['r2'] >= 0.8 and set(h['final']['train']) == {'loss', 'r2'}, h['final']
    c = json.loads((tmp_path / 'r' / 'config.json').read_text())
    assert c['loss'] == 'mse' and c['classes'] is None and abs(c['target_standardize']['mean'] - 120) < 10
    run = load_run(tmp_path / 'r')
    X = np.array([r_[:3] for r_ in rows], dtype=float); y = 100 * np.array([r_[3] for r_ in rows], dtype=float)
    pred = run.predict(X)
    assert r2_score(y, pred) >= 0.85 and 80 < pred.mean() < 160          # back in the target's units
    p = cli('predict', '--run', 'r', '--data', 'm.csv', '--out', 'p.csv', cwd=tmp_path)
    assert p.returncode == 0 and 'R² ' in p.stdout
    out = np.loadtxt(tmp_path / 'p.csv', skiprows=1, delimiter=',')
    np.testing.assert_allclose(out, pred, rtol=1e-8)

def test_r2_score():
    y = np.array([1., 2, 3, 4])
    assert r2_score(y, y) == 1 and r2_score(y, np.full(4, 2.5)) == 0 and r2_score(y, -y) < 0
    assert np.isnan(r2_score([2., 2], [1., 3]))

def test_no_standardize_and_constant_columns(tmp_path):
    header, rows = iris_rows()
    write_csv(tmp_path / 'c.csv', ['const', *header], [[7.5, *r] for r in rows])
    assert main(['train', '--data', str(tmp_path / 'c.csv'), '--target', 'species', *FAST, '--out', str(tmp_path / 'r')]) == 0
    c = json.loads((tmp_path / 'r' / 'config.json').read_text())
    assert c['standardize']['mean'][0] == 7.5 and c['standardize']['std'][0] == 1.0      # a constant column: zeros, no division by 0
    h = json.loads((tmp_path / 'r' / 'history.json').read_text())
    assert all(np.isfinite(h['steps']['loss']))
    assert main(['train', '--data', str(tmp_path / 'c.csv'), '--target', 'species', *FAST, '--no-standardize', '--out', str(tmp_path / 's')]) == 0
    c = json.loads((tmp_path / 's' / 'config.json').read_text())
    assert c['standardize'] is None and load_run(tmp_path / 's').stats is None

def test_standardizer_properties():
    X = np.array([[1., 0.1, 5], [3., 0.1, 5], [5., 0.1, 5]])
    mean, std = standardizer(X)
    Z = standardize(X, (mean, std))
    np.testing.assert_allclose(Z[:, 0], [-1.2247448713915890, 0, 1.2247448713915890])
    assert (Z[:, 1:] == 0).all()                        # constant columns become exactly zero
    assert (standardize(X, None) == X).all()                 # --no-standardize: the features as they are

# ---------------------------------------------------------------- .npz files
def test_npz_with_and_without_feature_names(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 3)); y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    np.savez(tmp_path / 'd.npz', X=X, y=y)
    assert main(['train', '--data', str(tmp_path / 'd.npz'), *FAST, '--out', str(tmp_path / 'r')]) == 0
    run = load_run(tmp_path / 'r')
    assert run.features == ['x0', 'x1', 'x2'] and run.classes == ['0', '1', '2'] and run.config['target'] == 'y'
    r = cli('predict', '--run', 'r', '--data', 'd.npz', '--out', 'p.csv', cwd=tmp_path)
    assert r.returncode == 0 and 'accuracy' in r.stdout, r.stderr
    np.savez(tmp_path / 'n.npz', X=X, y=y.astype(float), features=np.array(['a', 'b', 'c']))
    assert main(['train', '--data', str(tmp_path / 'n.npz'), *FAST, '--out', str(tmp_path / 's')]) == 0
    assert load_run(tmp_path / 's').features == ['a', 'b', 'c'] and load_run(tmp_path / 's').classes == ['0', '1', '2']

# ---------------------------------------------------------------- bad files: one line, exit 2, nothing written
BAD_CSV = [
    ('empty', '', [], 'the file is empty'),
    ('no header', '5.1,3.5,1.4,setosa\n4.9,3.0,1.4,setosa\n', [], 'line 1 holds numbers'),
    ('unknown target', 'a,b,label\n1,2,x\n3,4,y\n', ['--target', 'species'], "no column 'species' for the target; its columns are a, b, label"),
    ('non-numeric', 'a,b,label\n1,2,x\n3,four,y\n', [], "line 3, column 'b': 'four' is not a number"),
    ('infinite', 'a,b,label\n1,inf,x\n3,4,y\n', [], "line 2, column 'b': 'inf' is not a finite number"),
    ('one class', 'a,b,label\n1,2,x\n3,4,x\n', [], "only one class ('x')"),
    ('ragged', 'a,b,label\n1,2,x\n3,4\n', [], 'line 3 has 2 fields, but the header has 3'),
    ('nan', 'a,b,label\n1,2,x\nnan,4,y\n5,,x\n6,7,y\n', [], "2 missing or NaN values in 2 rows (line 3, column 'a'; line 4, column 'b')"),
    ('header only', 'a,b,label\n', [], 'a header but no rows'),
    ('repeated name', 'a,a,label\n1,2,x\n3,4,y\n', [], "repeated column name 'a'"),
    ('float classes', 'a,b,label\n1,2,0.5\n3,4,1.5\n', [], 'use --task regression'),
    ('only target', 'label\nx\ny\n', [], 'no feature columns'),
    ('binary', b'a,b,label\n\xff\xfe\x00\x01,2,3\n', [], 'not a text file'),
    ('semicolons', 'a;b;label\n1;2;x\n3;4;y\n', [], 'separated by commas'),
    ('latin-1', 'a,b,label\n1,2,caf\xe9\n3,4,th\xe9\n'.encode('latin-1'), [], 'not UTF-8 text (saved as Latin-1 or another encoding?): re-save it as UTF-8'),
    ('trailing comma', 'a,b,label,\n1,2,x,\n3,4,y,\n', [], 'line 1 ends with a comma (an empty column name)'),
]

@pytest.mark.parametrize('kind,text,flags,msg', BAD_CSV, ids=[b[0] for b in BAD_CSV])
def test_bad_csv_files(tmp_path, kind, text, flags, msg):
    p = tmp_path / 'bad.csv'
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    r = cli('train', '--data', 'bad.csv', *(flags or ['--target', 'label']), '--out', 'r', '--quiet', cwd=tmp_path)
    one_line_error(r, '--data bad.csv: ' if kind != 'unknown target' else 'bad.csv', msg)
    assert not (tmp_path / 'r').exists()

def test_missing_file_and_missing_target_flag(tmp_path):
    one_line_error(cli('train', '--data', 'nope.csv', '--target', 'y', cwd=tmp_path), '--data nope.csv: No such file or directory')
    (tmp_path / 'a.csv').write_text('a,y\n1,x\n2,z\n')
    one_line_error(cli('train', '--data', 'a.csv', cwd=tmp_path), 'add --target COLUMN')

def test_drop_nan_leaves_out_those_rows(tmp_path):
    header, rows = iris_rows()
    rows = [list(r) for r in rows]
    rows[0][1] = 'NA'; rows[60][4] = ''; rows[100][0] = 'nan'
    write_csv(tmp_path / 'h.csv', header, rows)
    one_line_error(cli('train', '--data', 'h.csv', '--target', 'species', cwd=tmp_path), '3 missing or NaN values in 3 rows', '--drop-nan')
    r = cli('train', '--data', 'h.csv', '--target', 'species', '--drop-nan', *FAST, '--out', 'r', cwd=tmp_path)
    assert r.returncode == 0 and 'h.csv: 147 samples' in r.stdout and '3 rows with missing values left out' in r.stdout, r.stderr

@pytest.mark.parametrize('kind', ['garbage', 'no y', 'one-d X', 'strings', 'pickled', 'npy'])
def test_bad_npz_files(tmp_path, kind):
    p = tmp_path / 'bad.npz'
    if kind == 'garbage': p.write_bytes(b'not a zip at all')
    elif kind == 'no y': np.savez(p, X=np.zeros((4, 2)))
    elif kind == 'one-d X': np.savez(p, X=np.zeros(4), y=np.arange(4))
    elif kind == 'strings': np.savez(p, X=np.array([['a', 'b']] * 4), y=np.arange(4))
    elif kind == 'pickled': np.savez(p, X=np.array([{}] * 4, dtype=object), y=np.arange(4))
    elif kind == 'npy': np.save(open(p, 'wb'), np.zeros(3))
    one_line_error(cli('train', '--data', 'bad.npz', '--out', 'r', cwd=tmp_path), '--data bad.npz:')
    assert not (tmp_path / 'r').exists()

FLAG_CLASHES = [
    (['--data', 'x.csv', '--target', 'y', '--dataset', 'moons'], '--dataset is for the built-in datasets'),
    (['--data', 'x.csv', '--target', 'y', '--n', '100'], '--n is for the built-in datasets'),
    (['--target', 'y'], '--target is for your own data: add --data FILE'),
    (['--drop-nan'], '--drop-nan is for your own data'),
    (['--task', 'regression'], '--task is for your own data'),
    (['--loss', 'mse'], '--loss mse is for numbers'),
    (['--data', 'x.csv', '--target', 'y', '--task', 'regression', '--loss', 'hinge'], 'uses --loss mse'),
    (['--da', 'x.csv'], 'unrecognized arguments: --da'),        # no abbreviations: --da is neither --data nor --dataset
]

@pytest.mark.parametrize('flags,msg', FLAG_CLASHES)
def test_flags_that_do_not_fit_together(tmp_path, flags, msg):
    write_csv(tmp_path / 'x.csv', ['a', 'y'], [[1, 1.5], [2, 2.5], [3, 0.5]])
    one_line_error(cli('train', *flags, '--out', 'r', cwd=tmp_path), msg)

def test_read_csv_skips_blank_lines_and_counts_lines(tmp_path):
    (tmp_path / 'a.csv').write_text('a,b\n\n1,2\n"3\n",4\n5,6\n')
    header, rows = read_csv(tmp_path / 'a.csv')
    assert header == ['a', 'b'] and [n for n, _ in rows] == [3, 5, 6]    # a quoted field over two lines ends on line 5

def test_npz_target_is_its_y(tmp_path):
    np.savez(tmp_path / 'd.npz', X=np.zeros((6, 2)), y=np.arange(6) % 2)
    one_line_error(cli('train', '--data', 'd.npz', '--target', 'label', cwd=tmp_path), 'the target of an .npz file is its array y')

# ---------------------------------------------------------------- properties
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis.extra.numpy import arrays

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_subnormal=False)

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(X=arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 4)), elements=finite),
       labels=st.lists(st.sampled_from(['cat', 'dog', '7', '-3', 'Éclair']), min_size=12, max_size=12), data=st.data())
def test_csv_round_trip_and_class_order(tmp_path_factory, X, labels, data):
    "What is written is read back exactly; the class numbering depends on the set of labels only, not on the row order."
    labels = labels[:len(X)]
    if len(set(labels)) < 2: labels[0], labels[1] = 'cat', 'dog'
    d = tmp_path_factory.mktemp('rt')
    header = [f'f{j}' for j in range(X.shape[1])] + ['kind']
    t = load_table(write_csv(d / 'a.csv', header, [[*map(repr, x), c] for x, c in zip(X.tolist(), labels)]), 'kind')
    assert (t['X'] == X).all() and [t['classes'][i] for i in t['y']] == labels
    order = data.draw(st.permutations(range(len(X))))
    t2 = load_table(write_csv(d / 'b.csv', header, [[*map(repr, X[i].tolist()), labels[i]] for i in order]), 'kind')
    assert t2['classes'] == t['classes'] and (t2['y'] == t['y'][list(order)]).all()

@settings(max_examples=60, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 4)), elements=finite))
def test_standardized_columns_have_mean_0_and_std_1_or_are_zero(X):
    mean, std = standardizer(X)
    Z = standardize(X, (mean, std))
    const = X.min(0) == X.max(0)
    assert (Z[:, const] == 0).all() and (std > 0).all()
    spread = ~const & (X.std(0) > 1e-9 * np.abs(X).max(0))       # well above rounding
    np.testing.assert_allclose(Z[:, spread].mean(0), 0, atol=1e-7)
    np.testing.assert_allclose(Z[:, spread].std(0), 1, rtol=1e-6)

# ---------------------------------------------------------------- a newcomer's read-through: silent wrong results
def price_rows(n=60, seed=0):
    "A table whose target is an integer price: numbers to predict, not classes."
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2))
    price = np.round(100 + 300 * X[:, 0] + 50 * X[:, 1]).astype(int)
    return ['size', 'age', 'price'], [[*x, p] for x, p in zip(X.tolist(), price)], X, price

def test_an_integer_target_with_a_class_per_row_is_refused(tmp_path):
    header, rows, _, _ = price_rows()
    write_csv(tmp_path / 'price.csv', header, rows)
    one_line_error(cli('train', '--data', 'price.csv', '--target', 'price', '--out', 'r', cwd=tmp_path),
                   "the target 'price' has", 'is \'price\' a number to predict? use --task regression')
    assert not (tmp_path / 'r').exists()
    r = cli('train', '--data', 'price.csv', '--target', 'price', '--task', 'regression', *FAST, '--out', 'r', cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == '', r.stderr

def test_rare_classes_and_classes_differing_in_case_are_warned_of(tmp_path):
    header, rows = iris_rows()
    rows = [list(r) for r in rows]
    rows[0][4], rows[1][4] = 'Setosa', 'odd'          # 'Setosa' beside 'setosa'; 'odd' has one row
    write_csv(tmp_path / 'w.csv', header, rows)
    r = cli('train', '--data', 'w.csv', '--target', 'species', *FAST, '--out', 'r', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    warnings = r.stderr.strip().splitlines()
    assert all(w.startswith('backprop-nb train: warning: ') for w in warnings) and len(warnings) == 2, warnings
    assert "'Setosa', 'setosa'" in warnings[1] and 'upper/lower case' in warnings[1]
    assert 'fewer than 2 training rows' in warnings[0] and 'regression' not in warnings[0]     # words: not numbers
    write_csv(tmp_path / 'n.csv', header, [[*r[:4], '7' if i == 1 else ['0', '1', '2'][i // 50]] for i, r in enumerate(rows)])
    r = cli('train', '--data', 'n.csv', '--target', 'species', *FAST, '--out', 'n', cwd=tmp_path)
    assert r.returncode == 0 and "(7): too few to learn; is 'species' a number to predict? use --task regression" in r.stderr, r.stderr
    assert cli('train', '--data', 'w.csv', '--target', 'species', '--ignore', 'sepal_length', *FAST, '--out', 's', cwd=tmp_path).stderr
    iris = tmp_path / 'i.csv'
    write_csv(iris, *iris_rows())
    assert cli('train', '--data', 'i.csv', '--target', 'species', *FAST, '--out', 'q', cwd=tmp_path).stderr == ''

def test_ignore_leaves_columns_out_of_training_and_predict(tmp_path):
    header, rows = iris_rows()
    write_csv(tmp_path / 'c.csv', ['id', 'city', *header], [[i, 'Paris', *r] for i, r in enumerate(rows)])
    one_line_error(cli('train', '--data', 'c.csv', '--target', 'species', '--out', 'r', cwd=tmp_path),
                   "line 2, column 'city': 'Paris' is not a number: use it as --target, or leave it out with --ignore city")
    r = cli('train', '--data', 'c.csv', '--target', 'species', '--ignore', 'id, city', *FAST, '--out', 'r', cwd=tmp_path)
    assert r.returncode == 0 and 'c.csv: 150 samples, 4 features' in r.stdout, r.stderr
    c = json.loads((tmp_path / 'r' / 'config.json').read_text())
    assert c['ignore'] == ['id', 'city'] and c['features'] == header[:4] and c['layers'][0] == 4
    write_csv(tmp_path / 'new.csv', header[:4], [r_[:4] for r_ in rows[:3]])     # no id, no city: not needed
    p = cli('predict', '--run', 'r', '--data', 'new.csv', cwd=tmp_path)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 4, p.stderr
    one_line_error(cli('train', '--data', 'c.csv', '--target', 'species', '--ignore', 'zip', '--out', 's', cwd=tmp_path), "no column 'zip' to ignore")
    one_line_error(cli('train', '--data', 'c.csv', '--target', 'species', '--ignore', 'species', '--out', 's', cwd=tmp_path), 'is the target')
    one_line_error(cli('train', '--ignore', 'id', '--out', 's', cwd=tmp_path), '--ignore is for your own data')
    one_line_error(cli('train', '--data', 'c.csv', '--target', 'species', '--ignore', 'id,,city', cwd=tmp_path), 'expected comma-separated column names')
    t = load_table(tmp_path / 'c.csv', 'species', ignore=['id', 'city'])
    assert t['features'] == header[:4] and t['X'].shape == (150, 4)
    np.savez(tmp_path / 'n.npz', X=np.column_stack([np.arange(150), t['X']]), y=t['y'], features=np.array(['id', *header[:4]]))
    t = load_table(tmp_path / 'n.npz', ignore=['id'])
    assert t['features'] == header[:4] and (t['X'] == load_table(tmp_path / 'c.csv', 'species', ignore=['id', 'city'])['X']).all()

def test_predict_refuses_a_non_numeric_regression_target_before_writing(tmp_path):
    header, rows, _, _ = price_rows()
    write_csv(tmp_path / 'price.csv', header, rows)
    assert cli('train', '--data', 'price.csv', '--target', 'price', '--task', 'regression', *FAST, '--out', 'r', cwd=tmp_path).returncode == 0
    rows = [list(r) for r in rows[:5]]
    rows[2][2] = 'cheap'
    write_csv(tmp_path / 'new.csv', header, rows)
    one_line_error(cli('predict', '--run', 'r', '--data', 'new.csv', '--out', 'p.csv', cwd=tmp_path), "line 4, column 'price': 'cheap' is not a number")
    assert not (tmp_path / 'p.csv').exists()
    p = cli('predict', '--run', 'r', '--data', 'price.csv', '--out', 'p.csv', cwd=tmp_path)
    assert p.returncode == 0 and 'predicted 60 rows' in p.stdout and 'R² ' in p.stdout, p.stderr
    write_csv(tmp_path / 'one.csv', header, rows[:1])
    p = cli('predict', '--run', 'r', '--data', 'one.csv', cwd=tmp_path)
    assert p.returncode == 0 and 'predicted 1 row with' in p.stderr, p.stderr

class Table:
    "A stand-in for a pandas DataFrame: `.columns`, and a column by name."
    def __init__(self, cols): self.cols = cols
    @property
    def columns(self): return list(self.cols)
    def __getitem__(self, name): return self.cols[name]
    def __array__(self, dtype=None, copy=None): return np.column_stack(list(self.cols.values())).astype(dtype or np.float64)

def test_run_predict_reads_a_table_by_column_name(iris):
    run = load_run(iris / 'run')
    header, rows = iris_rows()
    X = np.array([r[:4] for r in rows], dtype=float)
    table = Table({h: X[:, j] for j, h in reversed(list(enumerate(header[:4])))})     # columns in another order
    assert (run.predict(table) == run.predict(X)).all()
    with pytest.raises(ValueError, match="no column 'petal_width'"): run.predict(Table({h: X[:, j] for j, h in enumerate(header[:3])}))

def test_no_standardize_keeps_the_targets_scaling(tmp_path):
    header, rows, X, price = price_rows(200)
    write_csv(tmp_path / 'price.csv', header, rows)
    r = cli('train', '--data', 'price.csv', '--target', 'price', '--task', 'regression', '--no-standardize', '--quiet', '--out', 'r', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    c = json.loads((tmp_path / 'r' / 'config.json').read_text())
    assert c['standardize'] is None and abs(c['target_standardize']['mean'] - price[:160].mean()) < 40
    h = json.loads((tmp_path / 'r' / 'history.json').read_text())
    assert h['final']['valid']['r2'] >= 0.8, h['final']
    assert r2_score(price, load_run(tmp_path / 'r').predict(X)) >= 0.8

# ---------------------------------------------------------------- a newcomer's read-through: getting lost
ROOT = Path(__file__).resolve().parent.parent

def test_the_chapter_and_the_readme_show_how_to_write_iris_csv_first(tmp_path):
    "The lines shown before `--data iris.csv` write the file into the current folder, and the commands shown after them work."
    pytest.importorskip('sklearn')
    nb = json.loads((ROOT / 'nbs' / '11_cli.ipynb').read_text(encoding='utf-8'))
    intro = next(''.join(c['source']) for c in nb['cells'] if '--data iris.csv' in ''.join(c['source']))
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    code = re.search(r'```python\n(.*?)```', intro, re.S)
    heredoc = re.search(r"^python - <<'EOF'.*?\n(.*?)^EOF$", readme, re.S | re.M)
    assert code and code.start() < intro.index('--data iris.csv'), intro
    assert heredoc and heredoc.start() < readme.index('--data iris.csv')
    for i, (src, text) in enumerate([(code.group(1), intro), (heredoc.group(1), readme)]):
        d = tmp_path / str(i); d.mkdir()
        r = subprocess.run([sys.executable, '-c', src], cwd=d, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and (d / 'iris.csv').exists(), r.stderr
        commands = [l.split('#')[0].split() for l in re.findall(r'^(backprop-nb \S+ .*iris.*)$', text, re.M)]
        assert len(commands) == 2 and [c[1] for c in commands] == ['train', 'predict'], commands
        for argv in commands:
            r = cli(*argv[1:], cwd=d)
            assert r.returncode == 0, (argv, r.stderr)
        assert 'accuracy' in r.stdout and (d / 'predictions.csv').exists()

def test_help_shows_no_default_for_on_off_flags():
    import contextlib, io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): assert main(['train', '--help']) == 0
    text = ' '.join(buf.getvalue().split())      # argparse wraps the lines
    assert '(default: False)' not in text and '(default: 0.2)' in text
    line = text.split('--no-standardize --data:', 1)[1].split('--drop-nan')[0]
    assert line.count('default') == 1 and "target is scaled for training either way" in line, line

def test_boundary_of_a_two_feature_table_names_its_axes(tmp_path, monkeypatch):
    import backprop_nb.plots as plots
    figs, draw = [], plots.plot_decision_boundary
    def spy(*a, **k):
        figs.append(draw(*a, **k))
        return figs[-1]
    monkeypatch.setattr(plots, 'plot_decision_boundary', spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2)); y = np.where(X[:, 0] > X[:, 1], 'a', 'b')
    write_csv(tmp_path / 'b.csv', ['height', 'weight', 'kind'], [[*x, c] for x, c in zip(X, y)])
    for flags in ([], ['--no-standardize']):
        assert main(['train', '--data', str(tmp_path / 'b.csv'), '--target', 'kind', *FAST, *flags, '--out', str(tmp_path / f'r{len(flags)}')]) == 0
    labels = [(f.axes[0].get_xlabel(), f.axes[0].get_ylabel()) for f in figs]     # set after the call: read them once the runs are done
    assert labels == [('height (standardised)', 'weight (standardised)'), ('height', 'weight')], labels

# ---------------------------------------------------------------- the rows a run was trained on
def test_predict_on_the_training_file_scores_the_validation_rows_alone(iris):
    from backprop_nb.data import train_valid_split
    c = json.loads((iris / 'run' / 'config.json').read_text())
    t = load_table(iris / 'iris.csv', 'species')
    (Xt, _), (Xv, _) = train_valid_split(t['X'], t['y'], valid_frac=0.2, seed=0)
    lines = [int(w.split()[1]) for w in c['valid_rows']]
    assert len(lines) == 30 and (t['X'][[n - 2 for n in lines]] == Xv).all()        # line 2 holds row 0
    r = cli('predict', '--run', 'run', '--data', 'iris.csv', cwd=iris)
    assert r.returncode == 0, r.stderr
    assert 'iris.csv is the file the run was trained on: 120 of its rows were training rows, 30 validation rows' in r.stderr
    run, rows = load_run(iris / 'run'), iris_rows()[1]
    hits = sum(run.predict(np.array([rows[n - 2][:4]], dtype=float))[0] == rows[n - 2][4] for n in lines)
    assert f'on the 30 validation rows alone: accuracy {100 * hits / 30:.1f}% ({hits} of 30 rows)' in r.stderr, r.stderr
    (iris / 'more.csv').write_text((iris / 'iris.csv').read_text() + '5.0,3.4,1.5,0.2,setosa\n')   # another file: no such claim
    r = cli('predict', '--run', 'run', '--data', 'more.csv', cwd=iris)
    assert r.returncode == 0 and 'trained on' not in r.stderr and 'validation rows' not in r.stderr, r.stderr

# ---------------------------------------------------------------- other separators and encodings
def test_sep_and_encoding_for_train_and_predict(tmp_path):
    header, rows = iris_rows()
    rows = [[*(str(v).replace('.', ',') for v in r[:4]), 'séto' if r[4] == 'setosa' else r[4]] for r in rows]   # decimal commas
    text = '\n'.join(';'.join(r) for r in [header, *rows]) + '\n'
    (tmp_path / 'eu.csv').write_bytes(text.encode('latin-1'))
    one_line_error(cli('train', '--data', 'eu.csv', '--target', 'species', cwd=tmp_path), 'or add --encoding latin-1')
    one_line_error(cli('train', '--data', 'eu.csv', '--target', 'species', '--encoding', 'latin-1', cwd=tmp_path), 'separated by commas, or add --sep \';\'')
    one_line_error(cli('train', '--data', 'eu.csv', '--target', 'species', '--sep', ';', '--encoding', 'latin-1', cwd=tmp_path),
                   "line 2, column 'sepal_length': '5,1' is not a number")
    text = '\n'.join(';'.join(r) for r in [header, *([*(v.replace(',', '.') for v in r[:4]), r[4]] for r in rows)]) + '\n'
    (tmp_path / 'eu.csv').write_bytes(text.encode('latin-1'))
    r = cli('train', '--data', 'eu.csv', '--target', 'species', '--sep', ';', '--encoding', 'latin-1', *FAST, '--out', 'r', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    c = json.loads((tmp_path / 'r' / 'config.json').read_text())
    assert (c['sep'], c['encoding'], c['classes']) == (';', 'iso8859-1', ['séto', 'versicolor', 'virginica'])
    p = cli('predict', '--run', 'r', '--data', 'eu.csv', cwd=tmp_path)          # the training file's format by default
    assert p.returncode == 0 and 'accuracy' in p.stderr, p.stderr
    write_csv(tmp_path / 'tab.csv', header, [[*r_[:4], ''] for r_ in iris_rows()[1][:3]])
    (tmp_path / 'tab.csv').write_text((tmp_path / 'tab.csv').read_text().replace(',', '\t'))
    p = cli('predict', '--run', 'r', '--data', 'tab.csv', '--sep', 'tab', '--encoding', 'utf-8', cwd=tmp_path)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 4, p.stderr
    one_line_error(cli('train', '--data', 'eu.csv', '--target', 'species', '--sep', ';;', cwd=tmp_path), "expected one character (or 'tab')")
    one_line_error(cli('train', '--data', 'eu.csv', '--target', 'species', '--encoding', 'klingon', cwd=tmp_path), "unknown text encoding 'klingon'")
    one_line_error(cli('train', '--sep', ';', cwd=tmp_path), '--sep is for your own data')
