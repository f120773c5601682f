"""Sphinx configuration for the documentation site; `make docs` (tools/build_docs.py) feeds it
the pages that nbdev's processors made from nbs/, already executed."""
from pathlib import Path

project = 'backprop_nb'  # build_docs.py passes the name from settings.ini
extensions = ['myst_nb', 'sphinxcontrib.katex']

# Notebooks arrive executed (build_docs.py runs them once, cached), so myst-nb only renders.
nb_execution_mode = 'off'
nb_merge_streams = True
# No widget manager from a CDN: widget cells show their static picture instead.
nb_ipywidgets_js = {}
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3
# Lessons may jump from a title to ###; show_doc entries are ### or ####.
suppress_warnings = ['myst.header']

# Math renders with KaTeX shipped in the site: the JS from sphinxcontrib-katex, the CSS and
# fonts vendored in _static/katex (npm `katex`, same version as that JS).
katex_css_path = 'katex/katex.min.css'
html_static_path = ['_static']

html_theme = 'sphinx_book_theme'
html_title = project
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    'show_toc_level': 2,
    'use_download_button': False,
    'use_fullscreen_button': False,
    'navigation_with_keys': False,
    'show_prev_next': True,
}
html_sidebars = {'**': ['navbar-logo.html', 'search-field.html', 'sbt-sidebar-nav.html']}
# Light unless the reader's system asks for dark; avoids the theme's console error on a fresh
# profile ("invalid theme mode").
html_context = {'default_mode': 'auto'}
