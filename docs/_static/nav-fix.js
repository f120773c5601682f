/* Make the sidebar, contents and search buttons work at every width.

pydata-sphinx-theme 0.20 wires only the FIRST `.primary-toggle` / `.secondary-toggle` on a page
(pydata-sphinx-theme #2451, sphinx-book-theme #988); sphinx-book-theme 1.4 renders a second pair
(the visible ones) that then do nothing but show a tooltip. Clicks on those are passed to the
wired button, which opens the drawer below 992 px and collapses the sidebar above.

The search button focuses the search field of the sidebar; below 992 px that field is hidden
with the sidebar, so there the button opens the theme's search dialog instead. */
(() => {
  const wired = (kind) => document.querySelector(`.${kind}-toggle`);
  const visible = (el) => {  // shown, and on the screen (the narrow layout hides the sidebar off it)
    if (!el || !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > 0 && r.left < window.innerWidth;
  };

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    for (const kind of ['primary', 'secondary']) {
      const button = target.closest(`.${kind}-toggle`);
      const first = wired(kind);
      if (button && first && button !== first) {
        event.preventDefault();
        event.stopImmediatePropagation();
        button.blur();  // hides its tooltip
        first.click();
        return;
      }
    }
    const search = target.closest('.search-button__button');
    const dialog = document.getElementById('pst-search-dialog');
    if (search && dialog && !dialog.open) {
      const field = document.querySelector(':not(#pst-search-dialog) > form.bd-search input');
      if (!visible(field)) {
        event.preventDefault();
        event.stopImmediatePropagation();
        search.blur();
        dialog.showModal();
      }
    }
  }, true);  // capture: before the theme's own handlers on the buttons
})();
