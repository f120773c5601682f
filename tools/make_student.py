"""Write a learner's copy of the course: the notebooks of nbs/ without their solution cells.

    python tools/make_student.py [--dest student] [--force]

A solution cell is a code cell with a `#| solution` directive among its leading `#|` lines, or
with the cell tag `solution`. nbdev ignores directives it does not know, so these cells run under
`nbdev_test` (the solutions are checked there) and export as usual; here they are dropped. Every
other cell (the stubs with `...` and the check cells) is kept, and other files in nbs/ are copied.
The copy goes to `student/` (ignored by git). A notebook already there is kept, since it may hold
the learner's work, unless `--force` is given.
"""
import argparse, json, re, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'
_DIRECTIVE = re.compile(r'#\|\s*solution\s*$')


def is_solution(cell):
    "True for a cell marked `#| solution` (in its leading `#|` lines) or tagged `solution`."
    if 'solution' in cell.get('metadata', {}).get('tags', []): return True
    src = cell['source'] if isinstance(cell['source'], str) else ''.join(cell['source'])
    for line in src.splitlines():
        if not line.strip(): continue
        if not line.lstrip().startswith('#|'): break
        if _DIRECTIVE.match(line.strip()): return True
    return False


def strip_solutions(nb):
    "The notebook `nb` (a dict) without its solution cells, and how many were removed."
    kept = [c for c in nb['cells'] if not (c['cell_type'] == 'code' and is_solution(c))]
    return {**nb, 'cells': kept}, len(nb['cells']) - len(kept)


def make_student(dest, src=NBS, force=False):
    "Write the learner's copy of `src` into `dest`; returns {notebook name: solution cells removed}."
    dest, src = Path(dest).resolve(), Path(src).resolve()
    if dest == src or src in dest.parents or dest in src.parents or dest == ROOT:
        raise ValueError(f"make_student: dest {dest} must be outside the sources {src}")
    removed = {}
    for f in sorted(src.rglob('*')):
        if '.ipynb_checkpoints' in f.parts or not f.is_file(): continue
        out = dest / f.relative_to(src)
        if out.exists() and not force:
            print(f"kept {out.relative_to(dest)} (it may hold your work; --force overwrites it)"); continue
        out.parent.mkdir(parents=True, exist_ok=True)
        if f.suffix != '.ipynb':
            shutil.copy2(f, out); continue
        nb, n = strip_solutions(json.loads(f.read_text(encoding='utf-8')))
        out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
        removed[f.name] = n
    return removed


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--dest', default=str(ROOT / 'student'), help="where to write the copy (default: student/)")
    p.add_argument('--force', action='store_true', help="overwrite notebooks already in dest")
    args = p.parse_args()
    try: removed = make_student(args.dest, force=args.force)
    except ValueError as e: sys.exit(str(e))
    print(f"wrote {len(removed)} notebooks to {args.dest}, {sum(removed.values())} solution cells removed"
          + ''.join(f"\n  {k}: {v}" for k, v in removed.items() if v))
