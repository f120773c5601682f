"""README.md is rendered from nbs/index.ipynb; the two must not drift apart."""
import subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def test_readme_matches_index_notebook():
    r = subprocess.run([sys.executable, str(root / 'tools' / 'render_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout

def test_readme_opens_with_the_two_commands():
    text = (root / 'README.md').read_text(encoding='utf-8')
    head = text[:2500]
    assert 'make demo' in head and 'make test' in head
