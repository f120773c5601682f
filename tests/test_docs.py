"""The documentation site: it builds, its internal links resolve, every exported name has an API
entry, and a real browser shows the home page and a chapter with math and a plot.

The site is built once per run (tools/build_docs.py; notebook execution is cached)."""
import ast, importlib, importlib.util, inspect, json, os, re, shutil, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / 'docs' / '_build' / 'html'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']


def _load_build_docs():
    "tools/build_docs.py as a module (for its page naming and notebook order)."
    spec = importlib.util.spec_from_file_location('docs_builder', ROOT / 'tools' / 'build_docs.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


builder = _load_build_docs()


@pytest.fixture(scope='module')
def site():
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'build_docs.py')], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f'docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}'
    return SITE


class _Page(HTMLParser):
    "The ids a page defines and the local links it makes."
    def __init__(self):
        super().__init__()
        self.ids, self.links, self.anchors = set(), [], []  # anchors: (href, text) of <a>
        self._a = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        for key in ('href', 'src'):
            if a.get(key) is not None and tag in ('a', 'link', 'script', 'img', 'source', 'iframe'):
                self.links.append(a[key])
        if tag == 'a': self._a = [a.get('href'), '']

    def handle_data(self, data):
        if self._a is not None: self._a[1] += data

    def handle_endtag(self, tag):
        if tag == 'a' and self._a is not None:
            self.anchors.append((self._a[0], self._a[1].strip()))
            self._a = None


def _parse(path):
    p = _Page()
    p.feed(path.read_text(encoding='utf-8'))
    return p


def _pages(site):
    return {p: _parse(p) for p in site.rglob('*.html')}


def test_internal_links_resolve(site):
    pages = _pages(site)
    broken = []
    for page, parsed in pages.items():
        if page.relative_to(site).parts[0] == '_static': continue  # theme's template snippets
        for link in parsed.links:
            u = urlsplit(link)
            if u.scheme or u.netloc or link.startswith(('mailto:', 'javascript:')): continue
            target = (page.parent / unquote(u.path)).resolve() if u.path else page
            if not target.exists():
                broken.append(f'{page.relative_to(site)} -> {link} (no file)')
            elif u.fragment and target.suffix == '.html' and target in pages \
                    and unquote(u.fragment) not in pages[target].ids:
                broken.append(f'{page.relative_to(site)} -> {link} (no such anchor)')
    assert not broken, 'broken internal links:\n' + '\n'.join(broken)


def test_every_notebook_is_a_page_in_the_sidebar_order(site):
    nbs = builder.notebooks(ROOT / 'nbs')
    for rel in nbs:
        assert (site / f'{builder.page_name(rel)}.html').exists(), rel
    chapters = [f'{builder.page_name(r)}.html' for r in nbs if r.as_posix() != 'index.ipynb']
    nav = re.search(r'<nav class="[^"]*bd-docs-nav.*?</nav>', (site / 'index.html').read_text(), re.S)
    hrefs = re.findall(r'<a class="reference internal" href="([^"#]+)"', nav.group(0))
    assert hrefs == chapters + ['api.html']


def _exported():
    "Every name in the `__all__` of each public module of the library."
    for py in sorted((ROOT / 'backprop_nb').rglob('*.py')):
        mod = '.'.join(py.relative_to(ROOT).with_suffix('').parts)
        if any(part.startswith('_') for part in mod.split('.')[1:]): continue
        for node in ast.parse(py.read_text(encoding='utf-8')).body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in node.targets):
                for name in ast.literal_eval(node.value): yield mod, name


def test_every_export_has_an_api_entry(site):
    "Listed on the API page, linked to its show_doc entry in a chapter, and in the search index."
    api = _parse(site / 'api.html')
    links = {text: href for href, text in api.anchors}
    index = (site / 'searchindex.js').read_text(encoding='utf-8')
    titles = json.loads(index[index.index('(') + 1:index.rindex(')')])['alltitles']
    missing = []
    sys.path.insert(0, str(ROOT))
    for mod, name in _exported():
        obj = getattr(importlib.import_module(mod), name)
        href = links.get(name)
        if not href:
            missing.append(f'{mod}.{name}: no link on api.html')
        elif inspect.isclass(obj) or inspect.isfunction(obj):  # these get a show_doc entry
            page, _, frag = href.partition('#')
            if f'id="{frag}"' not in (site / page).read_text(encoding='utf-8'):
                missing.append(f'{mod}.{name}: {href} is not a show_doc entry')
            if name not in titles: missing.append(f'{mod}.{name}: not in the search index')
    assert not missing, '\n'.join(missing)


def test_no_remote_assets(site):
    "Readable offline: no page loads a script, stylesheet, font or image from the network."
    remote = []
    for page in site.rglob('*.html'):
        for tag in re.findall(r'<(?:script|link|img|iframe)\b[^>]*>', page.read_text(encoding='utf-8')):
            if re.search(r'(?:src|href)="(?:https?:)?//', tag) and 'rel="canonical"' not in tag:
                remote.append(f'{page.relative_to(site)}: {tag}')
    for css in site.rglob('*.css'):
        for url in re.findall(r'url\(\s*["\']?((?:https?:)?//[^)"\']+)', css.read_text(errors='replace')):
            remote.append(f'{css.relative_to(site)}: {url}')
    assert not remote, '\n'.join(remote)


def _chapter_with_math_and_plot(site):
    "The first chapter, in course order, showing both a formula and a plot image."
    for rel in builder.notebooks(ROOT / 'nbs'):
        page = site / f'{builder.page_name(rel)}.html'
        text = page.read_text(encoding='utf-8')
        if rel.as_posix() != 'index.ipynb' and 'class="math' in text and \
                re.search(r'<div class="cell_output.*?<img ', text, re.S):
            return page


def test_browser_shows_home_and_a_chapter(site, tmp_path):
    if not Path(CHROMIUM).exists():
        msg = f'{CHROMIUM} is missing (bash tools/ensure_chromium.sh installs it)'
        if os.environ.get('CI', '').lower() == 'true': pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright
    chapter = _chapter_with_math_and_plot(site)
    assert chapter, 'no chapter shows both a formula and a plot'
    chapters = [builder.page_name(r) for r in builder.notebooks(ROOT / 'nbs') if r.as_posix() != 'index.ipynb']
    site_url = site.as_uri()
    problems = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / 'profile'), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={'width': 1280, 'height': 900})
        try:
            for page_file, shot in ((site / 'index.html', 'home.png'), (chapter, 'chapter.png')):
                page = ctx.new_page()
                page.on('console', lambda m: m.type == 'error' and m.location.get('url', '').startswith(site_url)
                        and problems.append(f'console: {m.text} ({m.location.get("url")})'))
                page.on('pageerror', lambda e: problems.append(f'page error: {e}'))
                page.on('requestfailed', lambda r: problems.append(f'failed request: {r.url}'))
                page.goto(page_file.as_uri())
                page.wait_for_load_state('load')
                assert 'backprop_nb' in page.title()
                nav = page.locator('nav.bd-docs-nav a.reference.internal')
                hrefs = [h.split('#')[0] or page_file.name  # the current page links to "#"
                         for h in nav.evaluate_all('els => els.map(e => e.getAttribute("href"))')]
                assert hrefs == [f'{c}.html' for c in chapters] + ['api.html']
                if page_file == chapter:
                    page.wait_for_selector('.math .katex', timeout=10_000)  # KaTeX typeset a formula
                    img = page.locator('.cell_output img').first
                    img.scroll_into_view_if_needed()
                    assert img.evaluate('i => i.complete && i.naturalWidth > 0'), 'plot image did not load'
                page.screenshot(path=str(tmp_path / shot), full_page=True)
                page.close()
        finally:
            ctx.close()
    assert not problems, '\n'.join(problems)
    print(f'screenshots in {tmp_path}')
