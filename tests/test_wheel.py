"""Ready to publish: `python -m build` makes an sdist and a wheel that `twine check --strict` accepts; the wheel,
installed into a fresh virtual environment with its runtime requirements only (from the package index, through
pip's cache), runs `backprop-nb train`, the README's `backprop-nb` commands and the README's Python examples.

The fresh environment needs the package index (or pip's cache); it skips, saying so, when neither can provide the
requirements, except in CI (CI=true), where that is a failure."""
import configparser, csv, os, re, shutil, subprocess, sys, venv, zipfile
from pathlib import Path
import pytest

root = Path(__file__).resolve().parent.parent
CI = os.environ.get('CI', '').lower() == 'true'
cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(root / 'settings.ini')
VERSION = cfg['DEFAULT']['version']

def run(cmd, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PIP_NO_CACHE_DIR')}
    env.update(MPLBACKEND='Agg', PYTHONDONTWRITEBYTECODE='1', PIP_DISABLE_PIP_VERSION_CHECK='1')
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=600, **kw)

@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    "sdist, then the wheel built from the sdist (as `python -m build` does): the sdist must hold all that the build needs."
    pytest.importorskip('build', reason="python -m build needs the dev extra: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp('dist')
    r = run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', out, root])   # the dev venv's setuptools: no download
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out

def test_sdist_and_wheel_pass_twine_check(dist):
    pytest.importorskip('twine', reason="twine needs the dev extra: pip install -e '.[dev]'")
    files = sorted(p.name for p in dist.iterdir())
    assert files == [f'backprop_nb-{VERSION}-py3-none-any.whl', f'backprop_nb-{VERSION}.tar.gz'], files
    r = run([sys.executable, '-m', 'twine', 'check', '--strict', *sorted(dist.iterdir())])
    assert r.returncode == 0 and r.stdout.count('PASSED') == 2, r.stdout + r.stderr

def test_wheel_metadata(dist):
    whl = next(dist.glob('*.whl'))
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        meta = z.read(f'backprop_nb-{VERSION}.dist-info/METADATA').decode()
        entry = z.read(f'backprop_nb-{VERSION}.dist-info/entry_points.txt').decode()
    assert all(n.startswith(('backprop_nb/', f'backprop_nb-{VERSION}.dist-info/')) for n in names), names   # no tests, no notebooks
    assert f'backprop_nb-{VERSION}.dist-info/licenses/LICENSE' in names or any(n.endswith('/LICENSE') for n in names)
    for needle in ('License: Apache-2.0', 'Project-URL: Documentation', 'Project-URL: Source', 'Classifier: Development Status :: 3 - Alpha',
                   'Description-Content-Type: text/markdown', '# backprop_nb', 'Requires-Python: >=3.10'):
        assert needle in meta, needle
    assert sorted(re.findall(r'^Requires-Dist: ([\w-]+)[^;\n]*$', meta, re.M)) == ['ipywidgets', 'matplotlib', 'numpy', 'tqdm']
    assert 'backprop-nb = backprop_nb.cli:main' in entry

def test_version_is_in_one_place():
    "settings.ini holds the version; setup.py reads it, nbdev_export writes it into __init__.py, and CHANGELOG.md has its section."
    import backprop_nb
    assert backprop_nb.__version__ == VERSION
    assert re.search(r"^__version__ = ['\"]" + re.escape(VERSION) + r"['\"]$", (root / 'backprop_nb' / '__init__.py').read_text(), re.M)
    assert re.search(r'^## ' + re.escape(VERSION) + r'\b', (root / 'CHANGELOG.md').read_text(), re.M)
    assert "version=cfg['version']" in (root / 'setup.py').read_text()

def readme_blocks(lang):
    return re.findall(r'^```' + lang + r'\n(.*?)^```$', (root / 'README.md').read_text(encoding='utf-8'), re.M | re.S)

def write_iris(d):
    "scikit-learn's iris as the README's iris.csv, and new_flowers.csv (the same rows without the species)."
    from sklearn.datasets import load_iris
    iris = load_iris()
    names = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
    with open(d / 'iris.csv', 'w', newline='') as f:
        csv.writer(f).writerows([names + ['species'], *([*x, iris.target_names[t]] for x, t in zip(iris.data, iris.target))])
    with open(d / 'new_flowers.csv', 'w', newline='') as f: csv.writer(f).writerows([names, *iris.data.tolist()])

def test_wheel_in_a_fresh_venv(dist, tmp_path):
    "Runtime requirements only: no scikit-learn, no nbdev, no torch; the repository is not on the path."
    pytest.importorskip('sklearn', reason='the iris file of the README example is written with scikit-learn')
    env_dir = tmp_path / 'venv'
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py, bin_ = env_dir / 'bin' / 'python', env_dir / 'bin'
    r = run([py, '-m', 'pip', 'install', '-q', next(dist.glob('*.whl'))])
    if r.returncode != 0 and not CI and ('Could not find' in r.stderr or 'NewConnectionError' in r.stderr or 'No matching distribution' in r.stderr):
        pytest.skip(f"the runtime requirements could not be installed (no package index reachable?): {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr[-3000:]
    work = tmp_path / 'work'; work.mkdir()
    r = run([py, '-c', 'import backprop_nb, importlib.util as u; print(backprop_nb.__file__, backprop_nb.__version__, '
                       '[m for m in ("sklearn", "torch", "nbdev", "pytest") if u.find_spec(m)])'], cwd=work)
    assert r.returncode == 0 and str(env_dir) in r.stdout and f' {VERSION} []' in r.stdout, r.stdout + r.stderr
    r = run([bin_ / 'backprop-nb', 'train', '--epochs', '3', '--out', 'demo', '--quiet'], cwd=work)
    assert r.returncode == 0 and 'accuracy' in r.stdout, r.stdout + r.stderr
    assert sorted(os.listdir(work / 'demo')) == ['boundary.png', 'config.json', 'history.json', 'loss.png', 'model.npz']
    # the README's backprop-nb commands, then its Python examples, in that folder
    write_iris(work)
    commands = [l.split('#')[0].split() for b in readme_blocks('sh') for l in b.splitlines() if l.startswith('backprop-nb ')]
    assert len(commands) >= 2, commands
    for argv in commands:
        r = run([bin_ / argv[0], *argv[1:]], cwd=work)
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
    blocks = readme_blocks('python')
    assert len(blocks) >= 3 and any('load_run' in b for b in blocks)
    for code in blocks:
        r = run([py, '-c', code], cwd=work)
        assert r.returncode == 0, (code, r.stderr)
        expected = [l[2:] for l in code.strip().splitlines()[-1:] if l.startswith('# ')]    # a last comment line shows the output
        if expected: assert r.stdout.strip().splitlines()[-1] == expected[0], (code, r.stdout)
    shutil.rmtree(env_dir)

def test_workflows_run_make_test_and_publish_make_docs():
    "The nbdev project's furniture: a test workflow running the README's test command, a docs workflow publishing to Pages."
    wf = root / '.github' / 'workflows'
    test, docs = (wf / 'test.yml').read_text(), (wf / 'docs.yml').read_text()
    ci = (root / '.ci' / 'run').read_text()
    assert 'bash .ci/run' in test and 'CI=true make test' in ci and 'pull_request' in test
    assert 'run: make docs' in docs and 'path: docs/_build/html' in docs
    assert 'actions/upload-pages-artifact' in docs and 'actions/deploy-pages' in docs and 'pages: write' in docs
