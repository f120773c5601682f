"""The exercise book: every check accepts its solution and rejects typical wrong answers with a verdict,
never raises on a broken answer, and the learner's copy (`make student`) runs and can be solved."""
import ast, json, math, re, sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from backprop_nb.exercises import EXERCISES, Exercise, compare, diagnose, show_solution
from backprop_nb import exercises as ex_mod

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
from make_student import is_solution, make_student  # noqa: E402

NAMES = list(EXERCISES)
VALUES = [n for n in NAMES if EXERCISES[n].is_value]
FUNCTIONS = [n for n in NAMES if not EXERCISES[n].is_value]

# The outline's ideas (issue 12 calls the outline 'the seed'), each with at least one exercise.
OUTLINE_IDEAS = {'derivatives': ['slope', 'central_difference'], 'add and mul rules': ['add_back', 'mul_back'],
              'chain rule by hand': ['chain_rule'], 'topological order': ['topo_order'], 'backward': ['backward'],
              'neuron': ['neuron'], 'layer': ['layer'], "the outline's loss": ['sse_loss'], 'gradient descent step': ['sgd_step'],
              'learning-rate schedule': ['step_decay', 'cosine_schedule'], 'unbroadcasting': ['unbroadcast'],
              "matmul's gradient": ['matmul_back'], "softmax/cross-entropy's gradient": ['cross_entropy_grad'],
              'training loop': ['train']}


def verdict(capsys, name, answer):
    "(check's result, the verdict it printed)."
    ok = EXERCISES[name].check(answer)
    return ok, capsys.readouterr().out


def test_at_least_15_exercises_one_per_outline_idea():
    assert len(EXERCISES) >= 15
    for idea, names in OUTLINE_IDEAS.items():
        assert all(n in EXERCISES for n in names), idea

@pytest.mark.parametrize('name', NAMES)
def test_solution_passes(capsys, name):
    ok, out = verdict(capsys, name, EXERCISES[name].solution)
    assert ok is True and out.startswith(f'✓ {name}')

@pytest.mark.parametrize('name', NAMES)
def test_typical_wrong_answers_fail_with_a_verdict(capsys, name):
    wrong = EXERCISES[name].wrong
    assert len(wrong) >= 3
    for label, answer in wrong.items():
        ok, out = verdict(capsys, name, answer)
        assert ok is False, label
        assert out.startswith(f'✗ {name}: ') and len(out) > 30, (label, out)

# The usual mistakes, with the hint each must get (two of them are the module's own wrong answers).
_mul_assign = EXERCISES['mul_back'].wrong['= not +=']
_topo_preorder = EXERCISES['topo_order'].wrong['node before parents']

HINTED = [
    ('mul_back', _mul_assign, "`=` instead of `+=`"),                         # caught by a*a
    ('slope', -16.0, 'sign is flipped'),
    ('slope', 20.0, 'f(2)'),
    ('central_difference', lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h), 'sign is flipped'),
    ('matmul_back', lambda A, B, G: ((G @ B.T).T, A.T @ G), 'transpose'),
    ('unbroadcast', lambda grad, shape: grad, 'summed back'),                 # a forgotten broadcast
    ('cross_entropy_grad', lambda logits, targets: EXERCISES['cross_entropy_grad'].solution(logits, targets) * len(targets), '1/n'),
    ('sse_loss', lambda model, xs, ys: sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs), 'half'),
    ('topo_order', _topo_preorder, 'before its parent'),
    ('backward', lambda root: None, 'all zeros'),
]

@pytest.mark.parametrize('name,answer,hint', HINTED, ids=[f'{n}-{i}' for i, (n, _, _) in enumerate(HINTED)])
def test_usual_mistakes_get_their_hint(capsys, name, answer, hint):
    ok, out = verdict(capsys, name, answer)
    assert ok is False and hint in out, out

def test_the_smallest_failing_input_is_named(capsys):
    "`=` in mul_back is right on a*b and wrong on a*a: the verdict names the a*a case, expected and got."
    ok, out = verdict(capsys, 'mul_back', _mul_assign)
    assert not ok and "b='a'" in out and 'expected [6., 6.]' in out and 'got      [3., 3.]' in out

@pytest.mark.parametrize('name', FUNCTIONS)
def test_stubs_returning_none_zero_or_ellipsis_fail(capsys, name):
    for stub in (lambda *a, **k: None, lambda *a, **k: 0, lambda *a, **k: ...):
        ok, out = verdict(capsys, name, stub)
        assert ok is False and out.startswith('✗')
    for stub in (None, ..., 0):
        assert verdict(capsys, name, stub)[0] is False

@pytest.mark.parametrize('name', VALUES)
def test_value_stubs_fail_and_the_answer_stays_hidden(capsys, name):
    for stub in (None, ..., 0, (..., ..., ..., ...)):
        ok, out = verdict(capsys, name, stub)
        assert ok is False and out.startswith('✗')
    ok, out = verdict(capsys, name, 123.0)
    assert not ok and repr(EXERCISES[name].solution) not in out and '16' not in out

def test_a_raising_answer_is_reported_with_its_line(capsys):
    def answer(grad, shape):
        total = grad.sum(axis=1)      # there is no axis 1 in the first case's 1-D grad
        return total
    ok, out = verdict(capsys, 'unbroadcast', answer)
    assert ok is False
    assert 'your code raised AxisError' in out and 'total = grad.sum(axis=1)' in out and 'at line ' in out and 'on the input' in out
    ok, out = verdict(capsys, 'neuron', lambda w, x, b: 1 / 0)
    assert ok is False and 'ZeroDivisionError' in out

def test_a_raising_backward_is_reported_and_leaves_no_damage(capsys):
    def mul_back(out):
        a, b = out._parents
        a.grad += b.dta * out.grad      # a typo
    ok, out = verdict(capsys, 'mul_back', mul_back)
    assert ok is False and 'AttributeError' in out and 'b.dta' in out
    assert EXERCISES['mul_back'].check(EXERCISES['mul_back'].solution, quiet=True)

def test_answers_of_the_wrong_kind_are_verdicts_not_errors(capsys):
    for name in NAMES:
        for answer in ('text', [1, 2], {'a': 1}, object(), int, np.zeros(3), (np.zeros(2), np.ones(2)), (1.0, ...)):
            ok, out = verdict(capsys, name, answer)
            assert ok is False and out.startswith('✗'), (name, answer)

@settings(max_examples=40, deadline=None)
@given(st.sampled_from(NAMES), st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=5),
                                         st.lists(st.floats(), max_size=4), st.tuples(st.floats(), st.floats())))
def test_check_never_raises_on_random_answers(name, answer):
    assert EXERCISES[name].check(answer, quiet=True) in (True, False)
    assert EXERCISES[name].check(lambda *a, **k: answer, quiet=True) in (True, False)

def test_quiet_prints_nothing(capsys):
    assert EXERCISES['slope'].check(3.0, quiet=True) is False
    assert capsys.readouterr().out == ''

@pytest.mark.parametrize('name', NAMES)
def test_show_solution_prints_source_that_parses(capsys, name):
    show_solution(name)
    out = capsys.readouterr().out
    assert out.startswith(f'# {name}: ')
    ast.parse(EXERCISES[name].source)
    with pytest.raises(KeyError, match='no exercise named'): show_solution(name + '_x')
    assert re.search(rf'^(def {name}\(|{name} = )', EXERCISES[name].source, re.M)

def test_solutions_and_stub_names_agree():
    "Pasting the source defines the name the check cell passes (so the student copy can be solved)."
    for name in NAMES:
        ns = {'topo_order': EXERCISES['topo_order'].solution, 'neuron': EXERCISES['neuron'].solution, 'np': np, 'math': math}
        exec(EXERCISES[name].source, ns)
        assert EXERCISES[name].check(ns[name], quiet=True), name


# --- the judges, as properties
arrays = st.integers(1, 4).flatmap(lambda n: st.lists(st.floats(-10, 10), min_size=n, max_size=n)).map(np.array)

@settings(max_examples=60, deadline=None)
@given(arrays)
def test_compare_accepts_equal_and_names_a_flipped_sign(x):
    assert compare(x, x.copy()) is None
    if np.abs(x).max() > 1e-3: assert 'sign is flipped' in compare(x, -x)

@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6), st.integers(0, 10_000))
def test_compare_names_a_transpose_and_a_factor_n(n, seed):
    A = np.random.default_rng(seed).normal(size=(n, n))
    if not np.allclose(A, A.T): assert 'transpose' in compare(A, A.T)
    said = '(n = 2)' if n == 2 else f'factor {n}'
    assert said in compare(A, A * n) and said in compare(A, A / n)
    assert 'summed back' in compare(A[0], A) and 'transposed' in compare(A[:, :1], A[:1, :])

def test_diagnose_can_say_nothing():
    assert diagnose(np.array([1.0, 2.0]), np.array([1.0, 5.0])) == ''

@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(0, 50), st.randoms(use_true_random=False))
def test_order_judge_accepts_exactly_the_valid_orders(n, seed, rnd):
    "A shuffled node list passes the topo_order judge iff every node comes after its parents."
    graph = ex_mod._Graph(n, seed)
    root, _ = graph.build()
    nodes = EXERCISES['topo_order'].solution(root)
    shuffled = nodes[:]; rnd.shuffle(shuffled)
    pos = {id(v): i for i, v in enumerate(shuffled)}
    valid = all(pos[id(p)] < pos[id(v)] for v in shuffled for p in v._parents)
    assert (ex_mod._judge_order(None, (root, shuffled), {}) is None) == valid
    assert ex_mod._judge_order(None, (root, nodes + nodes[:1]), {}) is not None      # a node twice
    assert ex_mod._judge_order(None, (root, nodes[1:]), {}) is not None              # a node missing

@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 10_000))
def test_matmul_solution_equals_the_library_on_random_shapes(n, k, m, seed):
    rng = np.random.default_rng(seed)
    case = dict(A=rng.normal(size=(n, k)), B=rng.normal(size=(k, m)), G=rng.normal(size=(n, m)))
    ex = EXERCISES['matmul_back']
    assert compare(ex.expected(case), ex.solution(**case)) is None

@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.integers(0, 2), st.data())
def test_unbroadcast_solution_equals_the_library(shape, lead, data):
    shape = tuple(shape)
    big = tuple(data.draw(st.integers(1, 3)) for _ in range(lead)) + tuple(
        data.draw(st.integers(1, 3)) if s == 1 else s for s in shape)
    case = dict(grad=np.random.default_rng(len(big)).normal(size=big), shape=shape)
    ex = EXERCISES['unbroadcast']
    assert compare(ex.expected(case), ex.solution(**case)) is None

@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 6), st.integers(0, 10_000), st.floats(0.1, 50))
def test_cross_entropy_solution_equals_the_library(n, k, seed, scale):
    rng = np.random.default_rng(seed)
    case = dict(logits=rng.normal(size=(n, k)) * scale, targets=rng.integers(0, k, size=n))
    ex = EXERCISES['cross_entropy_grad']
    assert compare(ex.expected(case), ex.solution(**case)) is None

@settings(max_examples=50, deadline=None)
@given(st.integers(0, 200), st.floats(1e-4, 1.0), st.integers(1, 50), st.floats(0.05, 0.99))
def test_schedules_equal_the_library(step, lr, size, gamma):
    c = dict(step=step, lr=lr, step_size=size, gamma=gamma)
    assert compare(ex_mod._step_decay_ref(c), EXERCISES['step_decay'].solution(**c)) is None
    c = dict(step=min(step, size), lr=lr, total_steps=size)
    assert compare(ex_mod._cosine_ref(c), EXERCISES['cosine_schedule'].solution(**c)) is None

def test_train_reference_falls_by_half():
    "The checked amount: on both seeds the library's loop halves the loss within its 60 steps."
    for case in EXERCISES['train'].cases():
        losses = EXERCISES['train'].expected(case)
        assert len(losses) == 60 and losses[-1] <= 0.5 * losses[0]

def test_train_that_does_not_learn_enough_fails(capsys):
    "Matching nothing and falling little is reported (the judge's 'not by half' branch)."
    ok = ex_mod._judge_train([1.0, 0.9], [1.0, 0.9], {})
    assert ok is not None and 'not by half' in ok

def test_an_exercise_can_be_defined_in_a_few_lines(capsys):
    def double(x): return 2 * x
    try:
        ex = Exercise('_double', 'double(x)', double, lambda: [dict(x=2.0), dict(x=3.0)], wrong={'square': lambda x: x * x})
        assert ex.check(double) and not ex.check(lambda x: x * x)
        assert "x=3.0" in capsys.readouterr().out     # x*x is right at 2.0: the first failing input is x=3.0
    finally:
        EXERCISES.pop('_double', None)


# --- the exercises in the chapters, and the learner's copy
_CHECK = re.compile(r"EXERCISES\['(\w+)'\]\.check\((\w+)\)")
_IMPORT = 'from backprop_nb.exercises import EXERCISES, show_solution'

def _check_cells(nb):
    "[(index, exercise name, the name of the learner's answer)] of the cells that run `EXERCISES[name].check(answer)`."
    return [(i, m.group(1), m.group(2)) for i, c in enumerate(nb['cells']) if c['cell_type'] == 'code'
            and (m := _CHECK.search(''.join(c['source'])))]

def _notebooks(folder):
    return {p.name: json.loads(p.read_text(encoding='utf-8')) for p in sorted(folder.glob('*.ipynb'))}

def test_every_exercise_sits_once_in_a_chapter_with_its_stub_and_import():
    """Each exercise has one check cell in the course, its stub (`...`) right above it, named `my_<name>` in a
    chapter; each chapter imports the exercise book once, before its first exercise."""
    where = {}
    for fname, nb in _notebooks(ROOT / 'nbs').items():
        checks = _check_cells(nb)
        for i, name, answer in checks:
            assert name not in where, (name, where.get(name), fname)
            where[name] = fname
            stub = ''.join(nb['cells'][i - 1]['source'])
            assert '...' in stub and re.search(rf'^(def {answer}\(|{answer} = )', stub, re.M), (fname, name)
            if fname != '16_exercises.ipynb': assert answer == f'my_{name}', (fname, name, answer)
        if checks and fname != '16_exercises.ipynb':
            imports = [j for j, c in enumerate(nb['cells']) if _IMPORT in ''.join(c['source'])]
            assert len(imports) == 1 and imports[0] < checks[0][0], fname
    assert sorted(where) == sorted(EXERCISES)

@pytest.fixture(scope='module')
def student(tmp_path_factory):
    dest = tmp_path_factory.mktemp('student')
    removed = make_student(dest)
    return dest, removed

def test_make_student_removes_solution_cells_and_keeps_stubs(student):
    dest, removed = student
    assert removed['16_exercises.ipynb'] >= len(EXERCISES)
    assert sorted(p.name for p in dest.glob('*.ipynb')) == sorted(p.name for p in (ROOT / 'nbs').glob('*.ipynb'))
    ours, theirs = _notebooks(ROOT / 'nbs'), _notebooks(dest)
    assert not any(is_solution(c) for nb in theirs.values() for c in nb['cells'])
    book = ''.join(''.join(c['source']) for c in theirs['16_exercises.ipynb']['cells'])
    assert 'a.grad += b.data * out.grad' not in book and 'chain_rule = (6.0' not in book
    for fname, nb in theirs.items():      # the chapters keep every exercise cell: stub, check, import
        assert [(n, a) for _, n, a in _check_cells(nb)] == [(n, a) for _, n, a in _check_cells(ours[fname])], fname
        for i, name, _ in _check_cells(nb):
            assert '...' in ''.join(nb['cells'][i - 1]['source']), name      # the stub right above its check

def test_is_solution_reads_directives_and_tags():
    assert is_solution({'source': '#| exporti\n#| solution\ndef f(): pass', 'metadata': {}})
    assert is_solution({'source': 'x = 1', 'metadata': {'tags': ['solution']}})
    assert not is_solution({'source': '#| export\ndef f(): pass  #| solution', 'metadata': {}})
    assert not is_solution({'source': 'x = 1\n#| solution', 'metadata': {}})

def test_make_student_keeps_a_learners_work_and_refuses_the_sources(tmp_path):
    make_student(tmp_path)
    mine = tmp_path / '16_exercises.ipynb'
    mine.write_text('{"my": "work"}')
    make_student(tmp_path)
    assert mine.read_text() == '{"my": "work"}'
    make_student(tmp_path, force=True)
    assert 'cells' in json.loads(mine.read_text())
    for bad in (ROOT / 'nbs', ROOT / 'nbs' / 'sub', ROOT):
        with pytest.raises(ValueError, match='outside the sources'): make_student(bad)

def _run(nb_path, cells):
    "Run `cells` (notebook cells) in one shell from the notebook's folder, as nbdev_test does; (shell, the run notebook)."
    from execnb.shell import CaptureShell
    from execnb.nbio import dict2nb
    from fastcore.xtras import working_directory
    shell, nb = CaptureShell(nb_path), dict2nb({'cells': cells, 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5})
    with working_directory(nb_path.parent): shell.run_all(nb, exc_stop=True)
    return shell, nb

def _printed(cell): return ''.join(''.join(o.get('text', '')) for o in cell.outputs if o.get('output_type') == 'stream')

def _pasted(source, names):
    "A worked solution as the learner would paste it: the exercises' names become the chapter's (`neuron` -> `my_neuron`)."
    for name, answer in names.items(): source = re.sub(rf'(?<![.\w]){name}\b', answer, source)
    return source

@pytest.mark.parametrize('fname', sorted(f for f, nb in _notebooks(ROOT / 'nbs').items() if _check_cells(nb)))
def test_each_student_notebook_runs_to_its_first_exercise_and_can_be_solved(student, fname):
    """The learner's copy runs, in one shell as nbdev_test does, up to the chapter's first check, whose stub fails
    politely; then, with every worked solution pasted into its stub, every check of the chapter passes.
    (Only the exercise cells run after the first check, so the test stays quick.)"""
    dest, _ = student
    path = dest / fname
    cells = json.loads(path.read_text(encoding='utf-8'))['cells']
    checks = _check_cells({'cells': cells})
    first = checks[0][0]
    names = {name: answer for _, name, answer in checks}
    solved = [c for i, name, _ in checks for c in ({**cells[i - 1], 'source': _pasted(EXERCISES[name].source, names)}, cells[i])]
    shell, run = _run(path, cells[:first + 1] + solved)
    out = _printed(run.cells[first])
    assert out.startswith(f'✗ {checks[0][1]}: ') and 'raised' not in out, out   # the stub fails, politely
    for k, (_, name, _) in enumerate(checks):
        got = _printed(run.cells[first + 2 + 2 * k])
        assert got.startswith(f'✓ {name}: right'), (name, got)

def test_an_answer_that_changes_its_inputs_does_not_change_the_verdicts_input(capsys):
    def answer(grad, shape):
        grad *= 0                      # in place: the case shown must still be the original one
        return grad
    ok, out = verdict(capsys, 'unbroadcast', answer)
    case = EXERCISES['unbroadcast'].cases()[0]
    assert not ok and f"grad={ex_mod._fmt(case['grad'])}" in out and np.abs(case['grad']).max() > 0

def test_the_readme_names_the_chapters_that_have_exercises():
    "The README (from index.ipynb) says which chapters have exercises: it stays true."
    nums = sorted(int(f[:2]) for f, nb in _notebooks(ROOT / 'nbs').items() if f[:2].isdigit() and _check_cells(nb))
    assert nums == [0, 1, 2, 3, 4, 8, 9]
    assert 'Chapters 0–4, 8 and 9 also have exercises with checks' in (ROOT / 'README.md').read_text(encoding='utf-8')

def test_the_solutions_bind_no_learner_facing_name():
    """The worked solutions live under `_sol_` names, so a learner's `neuron` or `topo_order` is never shadowed by ours;
    the source shown still uses the exercise's own names."""
    for name in NAMES:
        assert not hasattr(ex_mod, name), name
        assert '_sol_' not in EXERCISES[name].source, name

def test_relu_back_rejects_assignment_when_x_has_another_gradient(capsys):
    ok, out = verdict(capsys, 'relu_back', ex_mod._relu_assign)
    assert not ok and "graph='relu(x)*k + x'" in out and '`=` instead of `+=`' in out, out
    assert ex_mod._relu_assign in EXERCISES['relu_back'].wrong.values()

def test_hints_fit_the_exercise(capsys):
    "Forward exercises never hear about `+=` or a starting gradient; gradient exercises do."
    for name, answer in (('neuron', lambda w, x, b: 0.0), ('step_decay', lambda step, lr, step_size, gamma: 0.0),
                         ('sse_loss', lambda model, xs, ys: 0.0), ('cosine_schedule', lambda step, lr, total_steps: 0.0)):
        ok, out = verdict(capsys, name, answer)
        assert not ok and '+=' not in out and 'starting gradient' not in out and 'seed' not in out, (name, out)
    ok, out = verdict(capsys, 'backward', lambda root: None)
    assert not ok and 'starting gradient' in out

def test_number_answers_say_which_entry_and_which_way_without_the_answer(capsys):
    ok, out = verdict(capsys, 'chain_rule', (6.0, -4.0, -2.0, 5.0))
    assert not ok and 'entry 3' in out and '4.0' not in out and '(6.0, -4.0, -2.0, 4.0)' not in out, out
    ok, out = verdict(capsys, 'slope', 17.0)
    assert not ok and 'too big' in out and '16' not in out
    ok, out = verdict(capsys, 'slope', 15.0)
    assert not ok and 'too small' in out

def test_train_verdicts_name_the_loop_mistake(capsys):
    ok, out = verdict(capsys, 'train', ex_mod._train_zero_late)
    assert not ok and 'the loss never moved' in out and 'zero_grad must come before backward' in out, out
    def returns_values(model, xs, ys, steps, lr):
        losses = []
        for _ in range(steps):
            loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)); model.zero_grad(); loss.backward()
            for p in model.parameters(): p.data -= lr * p.grad
            losses.append(loss)
        return losses
    ok, out = verdict(capsys, 'train', returns_values)
    assert not ok and 'loss.data (a number)' in out and 'TypeError' not in out, out

def test_verdicts_show_plain_numbers_not_numpy_reprs(capsys):
    for name in ('neuron', 'layer'):
        ok, out = verdict(capsys, name, lambda w, x, b: 123.0) if name == 'neuron' else verdict(capsys, name, lambda W, x, b: [1.0])
        assert not ok and 'np.float64' not in out and 'np.int64' not in out, out

@pytest.mark.parametrize('fname', ['16_exercises.ipynb', '03_loss.ipynb'])
def test_the_student_copy_runs_all_and_then_its_checks_work(student, fname):
    """Run All on the learner's copy (no solution cells), then check an exercise and show a solution in the same
    kernel: the book is the installed package's, never an empty registry left behind by the removed cells."""
    dest, _ = student
    path = dest / fname
    cells = json.loads(path.read_text(encoding='utf-8'))['cells']
    probe = {'cell_type': 'code', 'execution_count': None, 'metadata': {}, 'outputs': [], 'source':
             "ex = EXERCISES['mul_back']\nprint(ex.check(ex.solution, quiet=True), len(EXERCISES))\nshow_solution('slope')"}
    _, run = _run(path, cells + [probe])
    out = _printed(run.cells[-1])
    assert out.startswith(f'True {len(EXERCISES)}') and '# slope:' in out, out

def test_an_answer_that_changes_the_data_does_not_break_the_exercise(capsys):   # prober: it cleared _XS/_YS
    assert not EXERCISES['train'].check(lambda m, xs, ys, s, lr: ys.clear() or xs.clear(), quiet=True)
    assert not EXERCISES['train'].check(lambda m, xs, ys, s, lr: xs[0].append(5.0), quiet=True)
    assert EXERCISES['train'].check(EXERCISES['train'].solution)   # the exercise still works for the session
    assert '✓ train' in capsys.readouterr().out

class _Unshowable:
    def __repr__(self): raise RuntimeError("no repr")

class _BadMessage(Exception):
    def __str__(self): raise RuntimeError("no str")

def _raise(e):
    def answer(*args, **kwargs): raise e
    return answer

@pytest.mark.parametrize('answer, said', [
    (lambda *a, **k: _Unshowable(), 'whose repr raised RuntimeError'),
    (_raise(_BadMessage()), '_BadMessage: (its message could not be shown)'),
    (_raise(SystemExit(3)), 'SystemExit: 3'),
    (_raise(GeneratorExit()), 'GeneratorExit'),
    (lambda *a, **k: [_Unshowable()], 'whose repr raised')])
def test_check_never_raises_on_answers_that_cannot_be_shown_or_exit(capsys, answer, said):   # prober
    for name in ('neuron', 'train'):
        assert EXERCISES[name].check(answer) is False
        assert said in capsys.readouterr().out
    assert EXERCISES['slope'].check(_Unshowable()) is False
