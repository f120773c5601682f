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
import argparse, hashlib, inspect, importlib, json, os, re, shutil, subprocess, sys, time, types
import warnings
from pathlib import Path

os.environ.setdefault('MPLBACKEND', 'Agg')
# nbdev's style advice on cells mixing imports and code: right for its own docs run, noise here
warnings.filterwarnings('ignore', message='Found cells containing imports')
HERE = Path(__file__).resolve().parent
CACHE_VERSION = '1'  # bump when the execution step changes, to invalidate cached outputs
WIDGET_MIME = 'application/vnd.jupyter.widget-view+json'
# The picture of this site in README/index: on the site itself, the site is there to see.
SITE_PICTURE = 'images/site.png'
# A chapter's show_doc entry gets the label CHAPTER_ANCHOR + its full name; the full name itself
# is the API reference's Python object.
CHAPTER_ANCHOR = 'chapter-'
# Sphinx lowercases labels, so names that differ only in case (torch.relu, torch.ReLU) would share
# one: those get their capitals' positions appended. Filled from the API before any page is made.
CASE_TWINS = set()


def anchor(label):
    "The label of `label`'s entry in a chapter: CHAPTER_ANCHOR + the name, unique even where Sphinx ignores case."
    if label.lower() in CASE_TWINS and label != label.lower():
        label += '-' + '.'.join(str(i) for i, ch in enumerate(label) if ch.isupper())
    return CHAPTER_ANCHOR + label


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


def page_title(nb, page):
    return (getattr(nb, 'frontmatter_', {}) or {}).get('title') or page


def to_myst(nb, rel, page, api, home_mod, labels, doc_base):
    "Turn nbdev's processed notebook (made for Quarto) into one myst-nb renders the same way."
    fm = dict(getattr(nb, 'frontmatter_', {}) or {})
    # the page lives in docs/_build/src/; Sphinx copies the executed notebook next to the site
    src_link = '../' * (len(Path(page).parts) - 1) + '../downloads/' + rel.as_posix()
    cells = []
    head = f"# {page_title(nb, page)}\n"
    if fm.get('description'): head += f"\n*{fm['description']}*\n"
    if page != 'index':
        head += (f"\n{{download}}`Download this chapter's notebook, with its outputs ({rel.name}) <{src_link}>`"
                 " (run it in a checkout of the project: `make lab`)\n")
    cells.append(md_cell(head))
    for cell in nb.cells:
        if cell.cell_type == 'raw': continue  # frontmatter; already in the title
        src = cell.get('source', '')
        if cell.cell_type == 'markdown':
            if '<!-- WARNING: THIS FILE WAS AUTOGENERATED!' in src: continue
            # notebooks show repo images as ../docs/...; the page sits in docs/_build/src/
            src = src.replace('](../docs/', '](' + '../' * (len(Path(page).parts) - 1) + '../../')
            src = re.sub(r'!\[[^\]]*\]\((?:\.\./)*' + re.escape(SITE_PICTURE) + r'\)\n?', '', src)
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
                text = f"({anchor(label)})=\n{text}"
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
        return f"[`{m.group(1)}`](#{anchor(label)})" if label else f"`{m.group(1)}`"

    def bare(m):
        label = target(m.group(1))
        return f"[`{m.group(1)}`](#{anchor(label)})" if label else m.group(0)
    text = re.sub(r'\[`([^`]+)`\]\(' + re.escape(doc_base) + r'[^)]*\)', nbdev_link, text)
    lines, fence = text.split('\n'), False
    for i, line in enumerate(lines):  # like nbdev's linkify: not in code blocks or headings
        if line.lstrip().startswith(('```', '~~~')): fence = not fence
        elif not fence and not line.startswith(('    ', '#')):
            lines[i] = re.sub(r'(?<!\[)`([A-Za-z_][\w.]*(?:\(\))?)`(?!\])', bare, line)
    return '\n'.join(lines)


def home_of(obj, mod, api):
    "'backprop_nb.derivatives.gradcheck' when `mod` re-exports an object another public module owns."
    home, qual = getattr(obj, '__module__', None), getattr(obj, '__qualname__', '')
    if home != mod and home in api and qual in api[home]: return f'{home}.{qual}'
    return None


def source_position(member, home_file):
    "Where a method is written: lessons add methods in teaching order, so source order is course order."
    f = member.fget if isinstance(member, property) else getattr(member, '__func__', member)
    f = inspect.unwrap(f) if callable(f) else f
    try: file, line = inspect.getsourcefile(f) or '', f.__code__.co_firstlineno
    except (TypeError, AttributeError): return (2, '', 0)
    return (0 if file == home_file else 1, file, line)


def class_members(cls, home_file):
    "The public attributes, properties and methods a class defines itself: [(directive, name)]."
    attrs, methods = [], []
    for name, m in vars(cls).items():
        if name.startswith('_') or inspect.isclass(m): continue
        if isinstance(m, (staticmethod, classmethod)) or inspect.isfunction(m):
            methods.append(('automethod', name, source_position(m, home_file)))
        elif isinstance(m, property):
            methods.append(('autoproperty', name, source_position(m, home_file)))
        else: attrs.append(('autoattribute', name))
    slots = getattr(cls, '__slots__', ())
    for name in ([slots] if isinstance(slots, str) else slots):
        if not name.startswith('_') and ('autoattribute', name) not in attrs: attrs.append(('autoattribute', name))
    return attrs + [(d, n) for d, n, _ in sorted(methods, key=lambda t: t[2])]


def first_line(obj):
    return (inspect.getdoc(obj) or '').strip().split('\n')[0]


def rst_escape(text):
    "A chapter title as plain text for a reST link: Markdown's code backticks dropped, the rest escaped."
    return re.sub(r'([\\*`|_<>])', r'\\\1', text.replace('`', ''))


def foreign(obj):
    "What a public name is when it is not the library's own object (numpy's float32 as torch.float32), else ''."
    if isinstance(obj, types.ModuleType): return f'The module ``{obj.__name__}``.'
    if isinstance(obj, types.SimpleNamespace): return 'A namespace holding ' + ', '.join(f'``{k}``' for k in vars(obj)) + '.'
    if (inspect.isclass(obj) or inspect.isroutine(obj)) and not (obj.__module__ or '').startswith('backprop_nb'):
        return f'Another name for ``{obj.__module__}.{obj.__qualname__}``.'
    return ''


def api_pages(api, labels, titles, mod_pages, src_dir):
    """The reference, with Sphinx's Python domain (autodoc over the package): one page per public
    module, every name of its `__all__` in that order, a class with the public methods it
    defines (in source order, the order the course adds them); a link from each entry to the
    chapter that teaches it. Returns {page: module} and {re-exported name: its home}."""
    out, reexports = {}, {}
    for mod, names in api.items():
        m = importlib.import_module(mod)
        page = 'api/' + mod.split('.', 1)[-1].replace('.', '/')
        home_file = inspect.getsourcefile(m)
        lines = [mod, '=' * len(mod), '', f'.. automodule:: {mod}', '']
        if mod in mod_pages:
            lines += [f'Taught in :doc:`{rst_escape(titles[mod_pages[mod]])} </{mod_pages[mod]}>`.', '']
        for name in names:
            obj, full = getattr(m, name), f'{mod}.{name}'
            if foreign(obj):  # PyTorch's names for numpy's dtypes, namespaces: say what they are, no autodoc
                lines += [f'.. py:data:: {name}', '', f'   {foreign(obj)}', '']   # automodule set the module
                continue
            home = home_of(obj, mod, api)
            if home: reexports[full] = home
            if inspect.isclass(obj): directive = 'autoclass'
            elif callable(obj): directive = 'autofunction'
            else: directive = 'autodata'
            lines += [f'.. {directive}:: {full}']
            if directive == 'autodata': lines += ['   :no-value:']
            lines.append('')
            if full in labels and not home:
                lines += [f'   Taught in :ref:`{rst_escape(titles[labels[full]])} <{anchor(full)}>`.', '']
            if directive == 'autoclass' and not home:
                for sub, member in class_members(obj, home_file):
                    lines += [f'   .. {sub}:: {member}']
                    if sub == 'autoattribute': lines += ['      :no-value:']
                    lines.append('')
                    if f'{full}.{member}' in labels:
                        lines += [f'      Taught in :ref:`{rst_escape(titles[labels[full + "." + member]])} '
                                  f'<{anchor(full + "." + member)}>`.', '']
        (src_dir / page).parent.mkdir(parents=True, exist_ok=True)
        (src_dir / f'{page}.rst').write_text('\n'.join(lines), encoding='utf-8')
        out[page] = mod
    return out, reexports


def api_index(api, module_pages, labels, pages):
    "The reference's first page: every module, in course order, with its names and summaries."
    lines = ['# API reference', '',
             'Every public name the library exports, module by module, with its signature and '
             'its methods; each entry links to the chapter that builds it. The {ref}`genindex` lists '
             'every class, method and function alphabetically, the {ref}`modindex` the modules.', '']
    page_idx = {p: i for i, p in enumerate(pages)}

    def rank(mod):
        return min((page_idx[p] for l, p in labels.items() if l.startswith(mod + '.')), default=len(pages))
    by_mod = {mod: page for page, mod in module_pages.items()}
    order = sorted(api, key=rank)
    lines += ['```{toctree}', ':hidden:', ''] + [by_mod[m] for m in order] + ['```', '']
    for mod in order:
        m = importlib.import_module(mod)
        lines += [f'## {{doc}}`{mod} <{by_mod[mod]}>`', '', first_line(m), '',
                  '| Name | Summary |', '| --- | --- |']
        for name in api[mod]:
            obj = getattr(m, name)
            doc = first_line(obj) if callable(obj) or type(obj).__module__.startswith(mod.split('.')[0]) \
                else f'a `{type(obj).__name__}`'
            lines.append(f'| {{py:obj}}`{name} <{mod}.{name}>` | {doc.replace("|", chr(92) + "|")} |')
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


def save_download(src, dest):
    "The executed notebook readers download: outputs kept, widget views (dead without a kernel) dropped."
    nb = json.loads(src.read_text(encoding='utf-8'))
    for cell in nb['cells']:
        for o in cell.get('outputs', []):
            o.get('data', {}).pop(WIDGET_MIME, None)
        if 'outputs' in cell:
            cell['outputs'] = [o for o in cell['outputs'] if o.get('output_type') != 'display_data' or o.get('data')]
    nb.get('metadata', {}).pop('widgets', None)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')


def start_here(cfg, first):
    "What a newcomer does first, on the home page: get the code, open the course, or install."
    url, repo = cfg.git_url.rstrip('/'), cfg.git_url.rstrip('/').rsplit('/', 1)[-1]
    return f"""## Start here

Get the code and open the course in JupyterLab (`make lab` first sets up a virtual environment;
Python {cfg.min_python} or newer):

```sh
git clone {url}
cd {repo}
make lab
```

For the library alone, `pip install .` in that folder. Then read the first chapter,
{{doc}}`{first[1]} <{first[0]}>`, here or in JupyterLab, and go on in the order of the sidebar.
"""


def process_all(root, cfg, exec_dir, src_dir):
    from execnb.nbio import read_nb
    from nbdev.processors import _default_exp
    shutil.rmtree(src_dir, ignore_errors=True)
    shutil.rmtree(src_dir.parent / 'downloads', ignore_errors=True)
    src_dir.mkdir(parents=True)
    api = public_api(root, cfg)
    names = [f'{m}.{n}' for m, ns in api.items() for n in ns]
    CASE_TWINS.update(k for k in {n.lower() for n in names} if sum(n.lower() == k for n in names) > 1)
    doc_base = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip('/') + '/'
    labels, pages, mod_pages, titles = {}, [], {}, {}
    sources = {'api': 'tools/build_docs.py'}  # page -> the file in the repository it comes from
    nbs_rel = cfg.path('nbs_path').relative_to(root).as_posix()
    os.environ['IN_TEST'] = '1'  # as nbdev.serve_drv does while processing
    for rel in notebooks(cfg.path('nbs_path')):
        save_download(exec_dir / rel, src_dir.parent / 'downloads' / rel)
        nb = read_nb(exec_dir / rel)
        warn_lost_text(nb, rel)
        home = _default_exp(nb)
        home_mod = f"{cfg.lib_name}.{home}" if home else None
        with_cwd(cfg.path('nbs_path'), lambda: doc_filter()(nb))
        page = page_name(rel)
        titles[page], sources[page] = page_title(nb, page), f'{nbs_rel}/{rel.as_posix()}'
        if home_mod: mod_pages.setdefault(home_mod, page)
        out = src_dir / f'{page}.ipynb'
        out.parent.mkdir(parents=True, exist_ok=True)
        myst = to_myst(nb, rel, page, api, home_mod, labels, doc_base)
        pages.append((page, myst, home_mod))
    # The home page carries the table of contents: the chapters, then the reference.
    chapters = [p for p, _, _ in pages if p != 'index']
    toc = ('```{toctree}\n:hidden:\n:caption: Course\n\n' + '\n'.join(chapters) + '\n```\n\n'
           '```{toctree}\n:hidden:\n:caption: Reference\n\napi\n```\n')
    start = start_here(cfg, (chapters[0], titles[chapters[0]])) if chapters and cfg.get('git_url') else ''
    for page, myst, home_mod in pages:  # links last: every API entry's label is known by now
        for c in myst['cells']:
            if c['cell_type'] == 'markdown':
                c['source'] = local_links(c['source'], api, home_mod, labels, doc_base)
        if page == 'index':
            if start: myst['cells'].insert(1, md_cell(start))
            myst['cells'].append(md_cell(toc))
        (src_dir / f'{page}.ipynb').write_text(json.dumps(number_cells(myst), indent=1), encoding='utf-8')
    if not any(p == 'index' for p, _, _ in pages):  # no nbs/index.ipynb: a bare home page
        (src_dir / 'index.md').write_text(f'# {cfg.lib_name}\n\n' + start + '\n' + toc)
    module_pages, reexports = api_pages(api, labels, titles, mod_pages, src_dir)
    for page, mod in module_pages.items():  # a module's reference comes from its notebook's docstrings
        sources[page] = sources.get(mod_pages.get(mod), 'tools/build_docs.py')
    (src_dir / 'api.md').write_text(api_index(api, module_pages, labels, [p for p, _, _ in pages]),
                                    encoding='utf-8')
    return {'project': cfg.lib_name, 'version': cfg.version, 'git_url': cfg.get('git_url', ''),
            'branch': cfg.get('branch', 'main'), 'sources': sources, 'reexports': reexports}


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
    site = process_all(root, cfg, build / 'exec', build / 'src')
    (build / 'site.json').write_text(json.dumps(site, indent=1), encoding='utf-8')  # read by docs/conf.py
    html = build / 'html'
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-W', '--keep-going', '-E',
           '-c', str(HERE.parent / 'docs'), '-D', f'author={cfg.author}',
           '-D', f'copyright={cfg.copyright}',
           str(build / 'src'), str(html)]
    r = subprocess.run(cmd, env={**os.environ, 'BACKPROP_NB_DOCS_SITE': str(build / 'site.json')})
    if r.returncode: raise SystemExit(f'docs: sphinx-build failed ({r.returncode})')
    print(f'docs: built in {time.time() - t0:.0f}s; open file://{html / "index.html"}')


if __name__ == '__main__':
    main()
