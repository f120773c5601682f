"""Sphinx configuration for the documentation site; `make docs` (tools/build_docs.py) feeds it
the pages that nbdev's processors made from nbs/, already executed, the API pages (autodoc over
the installed package) and, in the file named by $BACKPROP_NB_DOCS_SITE, what it read from
settings.ini: version, repository, and which file in the repository each page comes from."""
import inspect, json, os

# {version, git_url, branch, sources: {page: path in the repository}, reexports: {name: home}}
_site_file = os.environ.get('BACKPROP_NB_DOCS_SITE')
SITE = json.loads(open(_site_file, encoding='utf-8').read()) if _site_file else {}

project = SITE.get('project', 'backprop_nb')  # settings.ini's lib_name
version = release = SITE.get('version', '')
extensions = ['myst_nb', 'sphinxcontrib.katex', 'sphinx.ext.autodoc', 'sphinx_copybutton']

# Notebooks arrive executed (build_docs.py runs them once, cached), so myst-nb only renders.
nb_execution_mode = 'off'
nb_merge_streams = True
# No widget manager from a CDN: widget cells show their static picture instead.
nb_ipywidgets_js = {}
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3
# Lessons may jump from a title to ###; show_doc entries are ### or ####.
suppress_warnings = ['myst.header']

# The API reference: autodoc over the package. Defaults as written in the source
# (`dtype=np.float32`, not `<class 'numpy.float32'>`); `name` in a docstring is code, as in Markdown.
# the API entry when there is one.
autodoc_preserve_defaults = True
autodoc_typehints = 'signature'
autodoc_member_order = 'bysource'
default_role = 'literal'
add_module_names = False  # `Value.backward(...)`: the page title already names the module
toc_object_entries_show_parents = 'hide'

# Copy buttons on code a reader runs, not on outputs (myst-nb marks those `.output`).
copybutton_selector = ':not(.output) > div.highlight > pre'

# Math renders with KaTeX shipped in the site: the JS from sphinxcontrib-katex, the CSS and
# fonts vendored in _static/katex (npm `katex`, same version as that JS).
katex_css_path = 'katex/katex.min.css'
html_static_path = ['_static']
html_css_files = ['site.css']
html_js_files = ['nav-fix.js']
html_logo = '_static/logo.svg'
html_favicon = '_static/logo.svg'

html_theme = 'sphinx_book_theme'
html_title = f'{project} {version}'.strip()
html_copy_source = False
html_show_sourcelink = False
# Search results without page excerpts: Sphinx fetches those pages, which browsers refuse for a
# site opened from file:// (a console error per result).
html_show_search_summary = False
html_theme_options = {
    'show_toc_level': 2,
    'use_download_button': False,
    'use_fullscreen_button': False,
    'navigation_with_keys': False,
    'show_prev_next': True,
    'logo': {'text': html_title},  # the name and version next to the logo
}
html_sidebars = {'**': ['navbar-logo.html', 'search-field.html', 'sbt-sidebar-nav.html']}
# Light unless the reader's system asks for dark; avoids the theme's console error on a fresh
# profile ("invalid theme mode").
html_context = {'default_mode': 'auto'}

if SITE.get('git_url'):
    # Repository button and "Suggest edit": a page's edit link opens the file it is made from
    # (the notebook for a chapter), not the generated page.
    html_theme_options.update(repository_url=SITE['git_url'], repository_branch=SITE['branch'],
                              use_repository_button=True, use_edit_page_button=True)
    html_context.update(
        page_sources=SITE.get('sources', {}), repository_url=SITE['git_url'].rstrip('/'),
        branch=SITE['branch'], edit_page_provider_name='GitHub',
        edit_page_url_template="{{ repository_url }}/edit/{{ branch }}/"
                               "{{ page_sources.get(file_name.rsplit('.', 1)[0], '') }}")


def _type_doc(obj):
    "The docstring of obj's type; some C types (a namedtuple's field getter) have a descriptor there instead."
    doc = type(obj).__doc__
    return doc if isinstance(doc, str) else ''


def _docstring(app, what, name, obj, options, lines):
    "Re-exports point at their home; a plain value (a dict, a tuple) gets no docstring of its type."
    home = SITE.get('reexports', {}).get(name)
    if home:
        lines[:] = [f'The same object as :py:obj:`{home}`, re-exported here.']
    elif what in ('data', 'attribute') and lines and \
            not type(obj).__module__.startswith(project) and \
            '\n'.join(lines).strip() == inspect.cleandoc(_type_doc(obj)):
        lines[:] = []


def setup(app):
    app.connect('autodoc-process-docstring', _docstring)
