"""The package reads in chapter order: each exported cell imports only the standard library, the
runtime dependencies and modules of its own or an earlier notebook; modules form no import cycle;
no module defines `__getattr__`; no exported cell is longer than 60 lines."""
import ast, json, re, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS, LIB = ROOT / 'nbs', ROOT / 'backprop_nb'
RUNTIME = {'numpy', 'matplotlib', 'ipywidgets', 'tqdm', 'IPython'}  # IPython comes with ipywidgets
OPTIONAL = {'sklearn', 'torch'}   # the `datasets` extra; PyTorch for interop (chapter 15): only inside functions
MAX_CELL = 60


def _cells(nb):
    return [c for c in json.loads(nb.read_text(encoding='utf-8'))['cells'] if c['cell_type'] == 'code']

def chapters():
    "{module: the notebook that creates it with `#| default_exp`}."
    out = {}
    for nb in sorted(NBS.glob('*.ipynb')):
        for c in _cells(nb):
            m = re.match(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source']))
            if m: out[m.group(1)] = nb.name
    return out

def sections(module_file):
    "(notebook, source) for each exported cell of a module, from nbdev's `# %% ../nbs/...` markers."
    text = module_file.read_text(encoding='utf-8')
    parts = re.split(r'^# %% \.\./nbs/(\S+?\.ipynb)[^\n]*\n', text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))

def imports(source, lazy=True):
    "Package names and backprop_nb modules imported in `source`: anywhere, or (lazy=False) outside function bodies."
    found, tree = set(), ast.parse(source)
    inside = set() if lazy else {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                                 for n in ast.walk(f)}
    for node in ast.walk(tree):
        if id(node) in inside: continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level: found.update(f'backprop_nb.{node.module or a.name}' for a in node.names)
            elif node.module == 'backprop_nb': found.update(f'backprop_nb.{a.name}' for a in node.names)
            else: found.add(node.module)
    return found

MODULES = sorted(p for p in LIB.glob('*.py') if p.name not in ('__init__.py', '_modidx.py'))


@pytest.mark.parametrize('module_file', MODULES, ids=lambda p: p.stem)
def test_imports_follow_the_chapters(module_file):
    order = chapters()
    late = []
    for nb, src in sections(module_file):
        eager = imports(src, lazy=False)
        for name in imports(src):
            top = name.split('.')[0]
            if top == 'backprop_nb':
                dep = name.split('.')[1] if '.' in name else None
                if dep in order and order[dep] > nb: late.append(f'{nb} imports {dep} (first exported by {order[dep]})')
            elif top in OPTIONAL and name in eager:
                late.append(f'{nb} imports {top} when the module loads; an optional dependency belongs inside the function that needs it')
            elif top not in RUNTIME | OPTIONAL and top not in sys.stdlib_module_names:
                late.append(f'{nb} imports {top}, not a runtime dependency')
    assert not late, late

def test_modules_form_no_cycle():
    order = chapters()
    graph = {p.stem: {n.split('.')[1] for n in imports(p.read_text(encoding='utf-8'))
                      if n.startswith('backprop_nb.') and n.split('.')[1] in order} - {p.stem} for p in MODULES}
    state = {}
    def visit(m, path):
        if state.get(m) == 'done': return
        assert state.get(m) != 'open', f"import cycle: {' -> '.join(path + [m])}"
        state[m] = 'open'
        for d in sorted(graph.get(m, ())): visit(d, path + [m])
        state[m] = 'done'
    for m in sorted(graph): visit(m, [])

@pytest.mark.parametrize('module_file', MODULES, ids=lambda p: p.stem)
def test_no_module_getattr(module_file):
    tree = ast.parse(module_file.read_text(encoding='utf-8'))
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ('__getattr__', '__dir__')]

def test_exported_cells_are_short():
    long = [f'{nb.name} cell {i}: {len(c["source"])} lines'
            for nb in sorted(NBS.glob('*.ipynb')) for i, c in enumerate(_cells(nb))
            if re.match(r'#\|\s*export', ''.join(c['source'])) and len(c['source']) > MAX_CELL]
    assert not long, long

def test_the_checks_can_fail(tmp_path):
    "The parsers find what they look for."
    assert imports('from .tensor import Tensor\ndef f():\n    from backprop_nb import cli\n    import numpy') == \
        {'backprop_nb.tensor', 'backprop_nb.cli', 'numpy'}
    f = tmp_path / 'm.py'
    f.write_text('# %% ../nbs/01_a.ipynb #x\nimport os\n# %% ../nbs/09_b.ipynb #y\nimport json\n')
    assert [nb for nb, _ in sections(f)] == ['01_a.ipynb', '09_b.ipynb']
