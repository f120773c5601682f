"""Build the documentation site: nbdev's notebook processing, rendered by Sphinx + myst-nb.

Quarto (nbdev's own renderer) cannot be installed here, so this script keeps nbdev's steps
and hands their output to Sphinx (docs/conf.py):

1. execute every notebook in nbs/ the way `nbdev_test` does (same skipped cells), keeping the
   outputs; results are cached in docs/_build/exec/, keyed on the notebook and library sources;
2. run nbdev's processors on the executed notebooks (`#| hide`, `#| export`, frontmatter,
   `show_doc`, doc links), as `nbdev.serve.proc_nbs` does;
3. translate the few Quarto-only conventions left in them for myst-nb (title, `#|` options,
   `show_doc` output, links to API entries) and write the pages plus an API index page;
4. run sphinx-build, warnings as errors, into docs/_build/html.

    python tools/build_docs.py            # prints the path of the home page
    python tools/build_docs.py --root DIR # another checkout (used by the docs tests)
"""
import argparse, hashlib, inspect, importlib, json, os, re, shutil, subprocess, sys, time
import warnings
from pathlib import Path

os.environ.setdefault('MPLBACKEND', 'Agg')
# nbdev's style advice on cells mixing imports and code: right for its own docs run, noise here
warnings.filterwarnings('ignore', message='Found cells containing imports')
HERE = Path(__file__).resolve().parent
CACHE_VERSION = '1'  # bump when the execution step changes, to invalidate cached outputs
WIDGET_MIME = 'application/vnd.jupyter.widget-view+json'
WIDGET_NOTE = ('*This is a static picture of an interactive widget: '
               '{download}`open the notebook <%s>` in Jupyter (`make lab`) to use it live.*')


def page_name(rel):
    "nbs/00_derivatives.ipynb -> derivatives, as nbdev names its doc pages."
    return (rel.parent / re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.stem.lower())).as_posix()


def notebooks(nbs):
    "Every notebook under nbs/, index first, then by path (the course order)."
    found = [p.relative_to(nbs) for p in nbs.rglob('*.ipynb')
             if not any(part.startswith(('.', '_')) for part in p.relative_to(nbs).parts)]
    return sorted(found, key=lambda p: (p.as_posix() != 'index.ipynb', p.as_posix()))


# ---- 1. execution -------------------------------------------------------------------------

def lib_digest(root, lib):
    h = hashlib.sha256(CACHE_VERSION.encode())
    for p in sorted((root / lib).rglob('*.py')): h.update(p.read_bytes())
    return h.hexdigest()


def execute(src, dest, skip_flags):
    "Run notebook `src` in-process like `nbdev_test` (same skips), save it with outputs."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from fastcore.xtras import working_directory
    fm = getattr(NBProcessor(src, procs=FrontmatterProc, process=True).nb, 'frontmatter_', {})
    nb = read_nb(src)
    if str(fm.get('skip_exec', '')).lower() not in ('true', '1', 'yes'):
        nbp = NBProcessor(nb=nb, rm_directives=False)  # parses `#|` into cell.directives_

        def skip(cell):
            if cell.cell_type != 'code' or 'nbdev_export(' in cell.source: return True
            d = getattr(cell, 'directives_', {}) or {}
            return d.get('eval:', [''])[0].lower() == 'false' or bool(skip_flags & d.keys())
        shell = CaptureShell(src)
        with working_directory(src.parent):
            try: shell.run_all(nbp.nb, exc_stop=True, preproc=skip)
            except Exception:
                sys.stderr.write(shell.prettytb(fname=src) + '\n')
                raise SystemExit(f'docs: executing {src} failed (see the traceback above)')
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dest)


def execute_all(root, cfg, nbs, out):
    skip_flags = set(cfg.get('tst_flags', '').split('|')) - {''}
    digest = lib_digest(root, cfg.lib_path.name)
    for rel in notebooks(nbs):
        src, dest = nbs / rel, out / rel
        key = hashlib.sha256((digest + src.read_text(encoding='utf-8')).encode()).hexdigest()
        stamp = dest.with_suffix('.key')
        if dest.exists() and stamp.exists() and stamp.read_text() == key: continue
        t = time.time()
        execute(src, dest, skip_flags)
        stamp.write_text(key)
        print(f'docs: executed {rel} in {time.time() - t:.1f}s', flush=True)


# ---- 2 and 3. nbdev processing and the myst-nb pages ----------------------------------------

def public_api(root, cfg):
    "{module: [names in __all__]} for every module of the library, in file order."
    lib = cfg.lib_path.name
    api = {}
    for p in sorted(cfg.lib_path.rglob('*.py')):
        rel = p.relative_to(cfg.lib_path.parent).with_suffix('')
        if any(part.startswith('_') for part in rel.parts[1:]): continue
        mod = importlib.import_module('.'.join(rel.parts))
        if getattr(mod, '__all__', None): api[mod.__name__] = list(mod.__all__)
    return api


def qualify(name, api, home_mod):
    "`Value.backward` shown in a notebook -> 'backprop_nb.autograd.Value.backward'."
    head = name.split('.')[0]
    mods = [m for m, names in api.items() if head in names]
    if not mods: return None
    return f"{home_mod if home_mod in mods else mods[0]}.{name}"


DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')


def split_directives(src):
    "Quarto/nbdev `#| key: value` lines at the top of a cell -> ({key: value}, rest)."
    lines, opts = src.splitlines(), {}
    while lines and DIRECTIVE.match(lines[0]):
        k, v = DIRECTIVE.match(lines.pop(0)).groups()
        opts[k] = v.strip('"\'').lower()
    return opts, '\n'.join(lines)


def md_cell(text):
    return {'cell_type': 'markdown', 'metadata': {}, 'source': text}


def number_cells(nb):
    "nbformat 4.5 wants cell ids."
    for i, c in enumerate(nb['cells']): c['id'] = f'c{i}'
    return nb


def to_myst(nb, rel, page, api, home_mod, labels, doc_base):
    "Turn nbdev's processed notebook (made for Quarto) into one myst-nb renders the same way."
    fm = dict(getattr(nb, 'frontmatter_', {}) or {})
    # the page lives in docs/_build/src/; Sphinx copies the notebook next to the site
    src_link = '../' * (len(Path(page).parts) - 1) + '../../../nbs/' + rel.as_posix()
    cells = []
    title = fm.get('title') or page
    head = f"# {title}\n"
    if fm.get('description'): head += f"\n*{fm['description']}*\n"
    if page != 'index': head += f"\n{{download}}`Notebook source: nbs/{rel.as_posix()} <{src_link}>`\n"
    cells.append(md_cell(head))
    for cell in nb.cells:
        if cell.cell_type == 'raw': continue  # frontmatter; already in the title
        src = cell.get('source', '')
        if cell.cell_type == 'markdown':
            if '<!-- WARNING: THIS FILE WAS AUTOGENERATED!' in src: continue
            # notebooks show repo images as ../docs/...; the page sits in docs/_build/src/
            src = src.replace('](../docs/', '](' + '../' * (len(Path(page).parts) - 1) + '../../')
            cells.append(md_cell(src))
            continue
        opts, code = split_directives(src)
        outputs = cell.get('outputs', [])
        if opts.get('output') == 'asis':  # show_doc: its markdown output becomes the page text
            m = re.search(r'^\s*show_doc\(\s*([\w.]+)', code, re.M)
            label = qualify(m.group(1), api, home_mod) if m else None
            text = '\n'.join(''.join(o.get('data', {}).get('text/markdown', ''))
                             for o in outputs)
            text = re.sub(r'(\]\([^)]*\))\{[^}]*\}', r'\1', text)  # Quarto link attributes
            text = re.sub(r"<class '([\w.]+)'>", r'\1', text)  # a class as a default (dtype=float32): not Python syntax
            if label and label not in labels:
                labels[label] = page
                text = f"({label})=\n{text}"
            cells.append(md_cell(text))
            continue
        if opts.get('include') == 'false': continue
        tags = []
        if opts.get('echo') == 'false': tags.append('remove-input')
        if opts.get('output') == 'false': tags.append('remove-output')
        widget = False
        for o in outputs:  # widgets: keep the static picture or text; the live view needs a kernel
            if WIDGET_MIME in o.get('data', {}):
                del o['data'][WIDGET_MIME]
                widget = True
        outputs = [o for o in outputs if o.get('output_type') != 'display_data' or o.get('data')]
        cells.append({'cell_type': 'code', 'metadata': {'tags': tags}, 'source': code,
                      'outputs': outputs, 'execution_count': None})
        if widget: cells.append(md_cell(WIDGET_NOTE % src_link))
    meta = {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'},
            'language_info': {'name': 'python'}}
    return {'cells': cells, 'metadata': meta, 'nbformat': 4, 'nbformat_minor': 5}


def entry(label, api, labels):
    "The API entry that documents `label`, following re-exports (backprop_nb.nn.Linear is documented as backprop_nb.tensor_nn.Linear)."
    if label is None or label in labels: return label
    mod = max((m for m in api if label.startswith(m + '.')), key=len, default=None)
    if mod is None: return None
    obj = importlib.import_module(mod)
    for part in label[len(mod) + 1:].split('.'): obj = getattr(obj, part, None)
    home = f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', None)}"
    return home if home in labels else None


def local_links(text, api, home_mod, labels, doc_base):
    """Point `name` mentions at this site's API entries: nbdev links our symbols to the Quarto
    site's URL, and misses some (its index skips notebooks whose path contains "auto")."""
    def target(name):
        return entry(qualify(name.removesuffix('()'), api, home_mod), api, labels)

    def nbdev_link(m):
        label = target(m.group(1))
        return f"[`{m.group(1)}`](#{label})" if label else f"`{m.group(1)}`"

    def bare(m):
        label = target(m.group(1))
        return f"[`{m.group(1)}`](#{label})" if label else m.group(0)
    text = re.sub(r'\[`([^`]+)`\]\(' + re.escape(doc_base) + r'[^)]*\)', nbdev_link, text)
    lines, fence = text.split('\n'), False
    for i, line in enumerate(lines):  # like nbdev's linkify: not in code blocks or headings
        if line.lstrip().startswith(('```', '~~~')): fence = not fence
        elif not fence and not line.startswith(('    ', '#')):
            lines[i] = re.sub(r'(?<!\[)`([A-Za-z_][\w.]*(?:\(\))?)`(?!\])', bare, line)
    return '\n'.join(lines)


def api_page(api, labels, pages, mod_pages):
    "One page listing every exported name: signature, first docstring line, link to its entry."
    lines = ['# API reference', '',
             'Every public name the library exports, with a link to its documentation in the '
             'chapter that builds it.', '']
    # modules in course order: the order of the chapters that document them
    page_idx = {p: i for i, p in enumerate(pages)}
    def rank(mod):
        return min((page_idx[p] for l, p in labels.items() if l.startswith(mod + '.')), default=len(pages))
    for mod, names in sorted(api.items(), key=lambda kv: rank(kv[0])):
        m = importlib.import_module(mod)
        lines += [f'## `{mod}`', '', '| Name | Summary |', '| --- | --- |']
        shown = [l for l in labels if l.startswith(mod + '.')]
        for name in names + [l[len(mod) + 1:] for l in shown if '.' in l[len(mod) + 1:]]:
            obj = m
            for part in name.split('.'): obj = getattr(obj, part, None)
            if obj is None or callable(obj) or type(obj).__module__.startswith(mod.split('.')[0]):
                doc = (inspect.getdoc(obj) or '').split('\n')[0] if obj is not None else ''
            else: doc = f'a `{type(obj).__name__}`'  # e.g. a dict: its type's docstring says nothing
            try: sig = str(inspect.signature(obj)) if callable(obj) else ''
            except (TypeError, ValueError): sig = ''
            label = entry(f'{mod}.{name}', api, labels)
            if label: ref = f'[`{name}`](#{label})'
            elif mod in mod_pages: ref = f'{{doc}}`{name} <{mod_pages[mod]}>`'  # e.g. a constant
            else: ref = f'`{name}`'
            doc = doc.replace('|', '\\|')
            sig = f' `{sig}`' if sig and len(sig) < 70 else ''
            lines.append(f'| {ref}{sig.replace("|", chr(92) + "|")} | {doc} |')
        lines.append('')
    return '\n'.join(lines)


def doc_filter():
    """nbdev's processors, with its show_doc runner told to leave alone cells that mix imports
    with other code: nbdev would run them in a fresh shell, where the names they use (from
    cells it skips) are missing. Their outputs come from step 1 anyway."""
    import ast
    from nbdev.processors import FilterDefaults, exec_show_docs

    class exec_docs(exec_show_docs):
        def __call__(self, cell):
            body = cell.parsed_() if cell.cell_type == 'code' and cell.source else None
            imports = [isinstance(t, (ast.Import, ast.ImportFrom)) for t in body or []]
            docs = {'export', 'exports', 'exporti', 'exec_doc'} & cell.directives_.keys()
            if any(imports) and not all(imports) and not docs and 'show_doc' not in cell.source:
                return
            return super().__call__(cell)

    class Filter(FilterDefaults):
        def base_procs(self):
            return [exec_docs if p is exec_show_docs else p for p in super().base_procs()]
    return Filter()


def warn_lost_text(nb, rel):
    "nbdev turns the `# Title` cell into frontmatter and drops the rest of that cell: say so."
    for cell in nb.cells:
        if cell.cell_type == 'raw': return
        if cell.cell_type != 'markdown' or not re.search(r'^#\s+\S', cell.source, re.M): continue
        extra = [l for l in cell.source.splitlines() if l.strip() and not re.match(r'(#|>|-\s+\S.*:)\s', l)]
        if extra: print(f'docs: warning: nbs/{rel}: nbdev drops the text after the title in its cell '
                        f'("{extra[0][:40]}..."); move it to a cell of its own', flush=True)
        return


def process_all(root, cfg, exec_dir, src_dir):
    from execnb.nbio import read_nb
    from nbdev.processors import _default_exp
    shutil.rmtree(src_dir, ignore_errors=True)
    src_dir.mkdir(parents=True)
    api = public_api(root, cfg)
    doc_base = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip('/') + '/'
    labels, pages, mod_pages = {}, [], {}
    os.environ['IN_TEST'] = '1'  # as nbdev.serve_drv does while processing
    for rel in notebooks(cfg.path('nbs_path')):
        nb = read_nb(exec_dir / rel)
        warn_lost_text(nb, rel)
        home = _default_exp(nb)
        home_mod = f"{cfg.lib_name}.{home}" if home else None
        with_cwd(cfg.path('nbs_path'), lambda: doc_filter()(nb))
        page = page_name(rel)
        if home_mod: mod_pages.setdefault(home_mod, page)
        out = src_dir / f'{page}.ipynb'
        out.parent.mkdir(parents=True, exist_ok=True)
        myst = to_myst(nb, rel, page, api, home_mod, labels, doc_base)
        pages.append((page, myst, home_mod))
    # The home page carries the table of contents: the chapters, then the reference.
    chapters = [p for p, _, _ in pages if p != 'index']
    toc = ('```{toctree}\n:hidden:\n:caption: Course\n\n' + '\n'.join(chapters) + '\n```\n\n'
           '```{toctree}\n:hidden:\n:caption: Reference\n\napi\n```\n')
    for page, myst, home_mod in pages:  # links last: every API entry's label is known by now
        for c in myst['cells']:
            if c['cell_type'] == 'markdown':
                c['source'] = local_links(c['source'], api, home_mod, labels, doc_base)
        if page == 'index': myst['cells'].append(md_cell(toc))
        (src_dir / f'{page}.ipynb').write_text(json.dumps(number_cells(myst), indent=1), encoding='utf-8')
    if not any(p == 'index' for p, _, _ in pages):  # no nbs/index.ipynb: a bare home page
        (src_dir / 'index.md').write_text(f'# {cfg.lib_name}\n\n' + toc)
    (src_dir / 'api.md').write_text(api_page(api, labels, [p for p, _, _ in pages], mod_pages), encoding='utf-8')


def with_cwd(path, f):
    old = os.getcwd()
    os.chdir(path)
    try: return f()
    finally: os.chdir(old)


# ---- 4. Sphinx ------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', type=Path, default=HERE.parent, help='project checkout')
    args = ap.parse_args()
    root = args.root.resolve()
    t0 = time.time()
    os.chdir(root)
    sys.path.insert(0, str(root))  # the library, also for a checkout that is not pip-installed
    os.environ['PYTHONPATH'] = os.pathsep.join([str(root), os.environ.get('PYTHONPATH', '')])
    from nbdev.config import get_config
    cfg = get_config()
    build = root / 'docs' / '_build'
    execute_all(root, cfg, cfg.path('nbs_path'), build / 'exec')
    process_all(root, cfg, build / 'exec', build / 'src')
    html = build / 'html'
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-W', '--keep-going', '-E',
           '-c', str(HERE.parent / 'docs'), '-D', f'project={cfg.lib_name}',
           '-D', f'html_title={cfg.lib_name}', '-D', f'author={cfg.author}',
           '-D', f'copyright={cfg.copyright}',
           str(build / 'src'), str(html)]
    r = subprocess.run(cmd)
    if r.returncode: raise SystemExit(f'docs: sphinx-build failed ({r.returncode})')
    print(f'docs: built in {time.time() - t0:.0f}s; open file://{html / "index.html"}')


if __name__ == '__main__':
    main()
