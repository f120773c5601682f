"""Fail when the notebooks and the exported library disagree.

Runs `nbdev_clean` and `nbdev_export` on a *copy* of the project (so your working tree is
never touched) and compares the result with what is on disk: every notebook must already be
clean, every module in the library must be exactly what the notebooks export, and no module
may exist that no notebook exports. Prints the files that differ.
"""
import filecmp, shutil, subprocess, sys, tempfile
from configparser import ConfigParser
from pathlib import Path

root = Path(__file__).resolve().parent.parent
cfg = ConfigParser(delimiters=['=']); cfg.read(root / 'settings.ini')
nbs, lib = cfg['DEFAULT']['nbs_path'], cfg['DEFAULT']['lib_path']
bin_dir = Path(sys.executable).parent

def files(d: Path, pattern):
    return {p.relative_to(d) for p in d.rglob(pattern) if '.ipynb_checkpoints' not in p.parts and '__pycache__' not in p.parts}

with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    shutil.copy(root / 'settings.ini', tmp)
    shutil.copytree(root / nbs, tmp / nbs, ignore=shutil.ignore_patterns('.ipynb_checkpoints'))
    (tmp / lib).mkdir()
    for cmd in ('nbdev_clean', 'nbdev_export'):
        r = subprocess.run([str(bin_dir / cmd)], cwd=tmp, capture_output=True, text=True)
        if r.returncode: sys.exit(f'sync check: {cmd} failed:\n{r.stdout}{r.stderr}')
    problems = []
    for sub, pattern in ((nbs, '*.ipynb'), (lib, '*.py')):
        ours, fresh = files(root / sub, pattern), files(tmp / sub, pattern)
        for f in sorted(ours - fresh): problems.append(f'{sub}/{f}: not produced by any notebook (hand-written module?)')
        for f in sorted(fresh - ours): problems.append(f'{sub}/{f}: exported by a notebook but missing on disk (run `make export`)')
        for f in sorted(ours & fresh):
            if not filecmp.cmp(root / sub / f, tmp / sub / f, shallow=False):
                why = 'not clean (run nbdev_clean)' if pattern == '*.ipynb' else 'differs from its notebook (edit the notebook, then nbdev_export)'
                problems.append(f'{sub}/{f}: {why}')

if problems:
    print('sync check FAILED: notebooks and library disagree:', *problems, sep='\n  ')
    sys.exit(1)
print('sync check: notebooks are clean and the library matches them')
