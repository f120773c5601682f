"""Render README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which we cannot install).

Markdown cells are copied as they are (links to ../ made relative to the top); code cells become ```python blocks, without their
`#|` directives; cells marked `#| hide` (or exported) are left out, and so are their outputs.
Text outputs saved in the notebook follow their cell as plain blocks.

    python tools/render_readme.py          # write README.md
    python tools/render_readme.py --check  # exit 1 when README.md is out of date
"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
HEADER = '<!-- Generated from nbs/index.ipynb by tools/render_readme.py: edit the notebook, not this file. -->\n\n'

def directives(src):
    return {l[3:].strip().split(':')[0].split()[0] for l in src.splitlines() if l.startswith('#| ') and l[3:].strip()}

def render(nb_path=root / 'nbs' / 'index.ipynb'):
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = []
    for cell in nb['cells']:
        src = ''.join(cell['source']).strip('\n')
        if cell['cell_type'] == 'markdown':
            # the notebook lives in nbs/, the README at the top: ../docs/x.png becomes docs/x.png
            if src: parts.append(src.replace('](../', ']('))
        elif cell['cell_type'] == 'code':
            d = directives(src)
            if d & {'hide', 'export', 'exports', 'exporti', 'default_exp', 'include'}: continue
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip('\n')
            if code: parts.append(f'```python\n{code}\n```')
            for out in cell.get('outputs', []):
                text = out.get('text') or out.get('data', {}).get('text/plain')
                if text: parts.append('```\n' + ''.join(text).rstrip('\n') + '\n```')
    return HEADER + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    readme = root / 'README.md'
    text = render()
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text(encoding='utf-8') != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python tools/render_readme.py`')
        print('README.md matches nbs/index.ipynb')
    else:
        readme.write_text(text, encoding='utf-8')
        print(f'wrote {readme.relative_to(root)}')
