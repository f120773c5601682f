"""The widgets in a real browser, in both front ends issue 5 names (JupyterLab 4 and Notebook 7): a
Jupyter server on 127.0.0.1, the widgets notebook opened in headless Chromium (Debian's, through
Playwright), all cells run, the explorer's learning-rate slider moved with the keyboard and Train
clicked three times; the loss plot must appear and change each time. One scenario, parametrized by
front end; only how the notebook is opened differs. The slider is moved with PageUp/PageDown, then
one ArrowLeft: Notebook 7 (7.6) gives arrow keys to its own shortcuts first, so there that last step
is an xfail (every other assertion still holds for both).

The notebook is copied to a temporary directory, so nothing is written into nbs/. Screenshots are
saved in the test's temporary directory (the path is printed)."""
import json, os, re, secrets, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / 'nbs' / '10_widgets.ipynb'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']
JUPYTER = Path(sys.executable).parent / 'jupyter'
# front end -> (jupyter subcommand, the package that provides it, where it opens a notebook)
FRONTENDS = {'jupyterlab': ('lab', 'jupyterlab', '/lab/tree/{}'),
             'notebook7': ('notebook', "'notebook>=7,<8'", '/notebooks/{}')}


def _missing(frontend):
    "What this test needs and does not have (empty when it can run)."
    out = []
    if not os.path.exists(CHROMIUM): out.append(f'{CHROMIUM} (run tools/ensure_chromium.sh)')
    try: import playwright.sync_api  # noqa: F401
    except ImportError: out.append('playwright (pip install -e ".[dev]")')
    cmd, package, _ = FRONTENDS[frontend]
    if not JUPYTER.exists() or subprocess.run([str(JUPYTER), cmd, '--version'], capture_output=True).returncode:
        out.append(package)
    return out


@pytest.fixture(params=list(FRONTENDS))
def frontend(request): return request.param


@pytest.fixture
def needs(frontend):
    missing = _missing(frontend)
    if missing:
        msg = 'browser test needs: ' + ', '.join(missing)
        if os.environ.get('CI', '').lower() == 'true': pytest.fail(msg)   # in CI a missing browser is an error
        pytest.skip(msg)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def server(needs, frontend, tmp_path):
    "A JupyterLab or Notebook 7 server on a free port with a token, serving a copy of the widgets notebook; stopped afterwards."
    root = tmp_path / 'root'; root.mkdir()
    nb = json.loads(NOTEBOOK.read_text(encoding='utf-8'))
    nb['metadata']['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    (root / NOTEBOOK.name).write_text(json.dumps(nb), encoding='utf-8')
    settings = tmp_path / 'lab-settings' / '@jupyterlab' / 'apputils-extension'
    settings.mkdir(parents=True)
    (settings / 'notification.jupyterlab-settings').write_text('{"fetchNews": "false"}')  # no news pop-up
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != 'BACKPROP_NB_STATIC'}  # the kernel must be live
    env.update(JUPYTERLAB_SETTINGS_DIR=str(tmp_path / 'lab-settings'), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / 'ws'),
               JUPYTER_RUNTIME_DIR=str(tmp_path / 'runtime'), MPLBACKEND='Agg')
    log = open(tmp_path / 'jupyter.log', 'w')
    proc = subprocess.Popen([str(JUPYTER), FRONTENDS[frontend][0], '--ip=127.0.0.1', f'--port={port}', f'--ServerApp.token={token}',
                             '--allow-root', '--no-browser', f'--ServerApp.root_dir={root}', '--ServerApp.port_retries=0'],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f'http://127.0.0.1:{port}'
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2) as r:
                    if r.status == 200: break
            except OSError: pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f'jupyter {FRONTENDS[frontend][0]} did not start:\n{(tmp_path / "jupyter.log").read_text()[-3000:]}')
            time.sleep(0.3)
        # start the notebook's kernel through the REST API, so the page finds a session and never
        # asks which kernel to use (it does when it opens before the kernel list has loaded)
        req = urllib.request.Request(f'{url}/api/sessions?token={token}', method='POST',
                                     headers={'Content-Type': 'application/json'},
                                     data=json.dumps({'path': NOTEBOOK.name, 'type': 'notebook', 'name': NOTEBOOK.name,
                                                      'kernel': {'name': 'python3'}}).encode())
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 201, r.status
            kernel = json.load(r)['kernel']['id']
        # and open the page only once that kernel answers: under load, a page that found it still starting
        # started a second kernel, and the switch cancelled the widgets' first messages (a page error)
        from jupyter_client import BlockingKernelClient
        client = BlockingKernelClient(connection_file=str(tmp_path / 'runtime' / f'kernel-{kernel}.json'))
        client.load_connection_file(); client.start_channels()
        try: client.wait_for_ready(timeout=90)
        finally: client.stop_channels()
        yield url, token, root
    finally:
        proc.terminate()
        try: proc.wait(timeout=10)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        log.close()


def _lr(text, prefix=''):
    "The learning rate in a status line such as 'next run: lr=0.1 constant ...'."
    m = re.search(re.escape(prefix) + r'lr=([0-9.e+-]+)', text)
    return float(m.group(1)) if m else None


def _known(frontend, error):
    "A page error of the front end itself, already reported upstream, that does not touch the widgets."
    # Notebook 7.6 at start-up: its shortcuts plugin reads settings it has not loaded yet (jupyter/notebook#7862)
    if (frontend == 'notebook7' and error.message == "Cannot read properties of undefined (reading 'schema')"
            and '/static/notebook/notebook_core.' in (error.stack or '')):
        return True
    # Under load, Lab sometimes starts a second kernel for the notebook and drops the first (seen with and
    # without our pre-started session); the widgets' request for a kernel subshell, sent to the first,
    # is then cancelled. Nothing of ours is involved, and the test goes on to use the live kernel.
    # The dropped kernel (or the one our own restart replaces) then answers Lab's pending messages with
    # "Kernel is dead". If the kernel the page uses died, the Train clicks below would not redraw: they are checked.
    text = f'{error.message} {error}'
    return 'Canceled future for create_subshell_request message before replies were done' in text or text.startswith('Kernel is dead')



# the arrow key went to a notebook shortcut: the focus left the output for a cell
ARROW_TAKEN = "() => !!document.activeElement.closest('.jp-Cell') && !document.activeElement.closest('.jp-OutputArea')"


def _wait(cond, seconds, msg):
    deadline = time.time() + seconds
    while not cond():
        if time.time() > deadline: raise AssertionError(msg())
        time.sleep(0.1)


def test_explorer_in_browser(server, frontend, tmp_path):
    from playwright.sync_api import sync_playwright
    url, token, root = server
    problems = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path / 'profile'), executable_path=CHROMIUM, headless=True,
                                                   args=CHROMIUM_ARGS, viewport={'width': 1400, 'height': 1000})
        try:
            page = ctx.new_page()
            page.on('pageerror', lambda e: None if _known(frontend, e) else problems.append(f'page error: {e}\n{e.stack}'))
            page.set_default_timeout(30_000)
            page.goto(url + FRONTENDS[frontend][2].format(NOTEBOOK.name) + f'?token={token}')
            page.wait_for_selector('.jp-Notebook .jp-Cell')
            # the last cells display a fresh explorer and its finder; wait for the explorer's picture
            explorer = page.locator('.jp-OutputArea-output:has(button:has-text("Train"))').last
            train = explorer.locator('button', has_text='Train')
            ready = """() => { const outs = [...document.querySelectorAll('.jp-OutputArea-output')]
                               .filter(o => [...o.querySelectorAll('button')].some(b => b.textContent.trim() == 'Train'));
                           return outs.length >= 2 && !!outs.at(-1).querySelector('img') }"""
            started = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                                .some(p => /[[](\\*|\\d+)[\\]]/.test(p.textContent))"""
            select = page.locator('.jp-Dialog button', has_text='Select')
            last_click, clicks, reloads, restarts = [0.0], [0], [0], [0]
            running = "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].some(p => p.textContent.includes('*'))"
            stalled = """() => { const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
                                  return ps.some(p => /\\d/.test(p)) && ps.some(p => p == '[ ]:') }"""
            stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            def ran_all():
                # Lab sometimes asks which kernel to use (even with one), and a "Run All" given
                # while it asks is lost: take the proposed kernel and ask again.
                if select.count() and select.first.is_visible(): select.first.click(); return False
                # Under load Lab sometimes swaps the notebook's kernel for a second one just as Run All is
                # given: then nothing runs (every prompt stays [ ]; open the notebook afresh), or only the
                # last cell reaches the new kernel and fails, the imports never ran (restart and run all).
                if clicks[0] >= 6 and not reloads[0] and not page.evaluate(started):
                    page.reload(); page.wait_for_selector('.jp-Notebook .jp-Cell'); reloads[0] += 1; clicks[0] = 0
                    return False
                # A run that stopped part-way with no error (seen once in CI under load: only the first cell
                # ran, the kernel idle, every other prompt still [ ]) is restarted the same way.
                if (clicks[0] and restarts[0] < 2 and time.time() - last_click[0] > 10 and not page.evaluate(running)
                        and (any('Error' in t for t in stderr.all_inner_texts()) or page.evaluate(stalled))):
                    page.locator('.lm-MenuBar-itemLabel', has_text='Kernel').first.click()
                    page.locator('.lm-Menu-itemLabel', has_text='Restart Kernel and Run All Cells').first.click()
                    page.locator('.jp-Dialog button', has_text='Restart').first.click()
                    last_click[0] = time.time(); restarts[0] += 1
                    return False
                if not page.evaluate(started) and time.time() - last_click[0] > 5:
                    page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
                    page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
                    last_click[0] = time.time(); clicks[0] += 1
                return page.evaluate(ready)
            def not_shown():
                prompts = page.evaluate("() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim())")
                errors = stderr.all_inner_texts()
                return (f'the notebook did not display the explorer (see failure.png); prompts {prompts}; '
                        f'Run All clicked {clicks[0]} times, {reloads[0]} reloads, {restarts[0]} restarts; stderr: {[e[-500:] for e in errors]}')
            _wait(ran_all, 120, not_shown)
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=30_000)
            tracebacks = [t for t in stderr.all_inner_texts() if 'Error' in t]
            assert not tracebacks, f'a cell failed:\n{tracebacks[0][-2000:]}'
            img = explorer.locator('img').first
            img.scroll_into_view_if_needed()
            assert img.evaluate('i => i.complete && i.naturalWidth > 300'), 'the loss plot did not appear'
            status = explorer.locator('.widget-html').first
            readout = explorer.locator('.widget-readout').first
            handle = explorer.locator('.noUi-handle').first   # the learning-rate slider (the first one)
            shots = [img.screenshot(path=str(tmp_path / 'explorer-0.png'))]
            lr0 = readout.inner_text()

            def moved_to():
                "The slider's learning rate, once the kernel has seen it (its observer rewrote the status line)."
                lr = readout.inner_text()
                _wait(lambda: _lr(status.inner_text(), 'next run: ') == pytest.approx(float(lr), rel=1e-2), 10,
                      lambda: f'the kernel did not see the slider move to {lr}: status {status.inner_text()!r}')
                return lr

            # a page key moves the slider 5 steps of 10**0.05 in both front ends (Notebook 7 takes the arrow
            # keys, see below): lr 0.05 -> 2.8 (diverges), -> 0.0028 (too small), -> 0.089 (about right)
            plan = (('PageUp', 7, 'diverged'), ('PageDown', 12, 'final loss'), ('PageUp', 6, 'final loss'))
            for i, (key, presses, outcome) in enumerate(plan, 1):
                handle.focus()
                for _ in range(presses): page.keyboard.press(key)
                lr = moved_to()
                train.click()
                _wait(lambda: any(w in status.inner_text() for w in ('final loss', 'diverged', 'non-finite')), 30,
                      lambda: f'training did not finish: status {status.inner_text()!r}')
                page.wait_for_timeout(300)  # let the last PNG arrive
                shots.append(img.screenshot(path=str(tmp_path / f'explorer-{i}.png')))
                assert shots[-1] != shots[-2], f'the plot did not change after Train #{i}'
                assert _lr(status.inner_text()) == pytest.approx(float(lr), rel=1e-2), (lr, status.inner_text())
                assert outcome in status.inner_text(), (outcome, status.inner_text())
            assert lr0 != readout.inner_text()
            explorer.screenshot(path=str(tmp_path / 'explorer-widget.png'))
            page.screenshot(path=str(tmp_path / 'notebook.png'))
            # an arrow key moves the slider one step; Notebook 7 (7.6) handles keys before the page does,
            # and its ArrowLeft/Right shortcuts (collapse/expand a heading) take the key and the focus
            before = float(readout.inner_text())
            handle.focus()
            page.keyboard.press('ArrowLeft')
            arrow_moved = float(readout.inner_text()) == pytest.approx(before / 10 ** 0.05, rel=1e-2)
            if arrow_moved: moved_to()
            elif not (frontend == 'notebook7' and page.evaluate(ARROW_TAKEN)):
                raise AssertionError(f'ArrowLeft did not move the slider one step down from {before}: {readout.inner_text()}')
        except Exception:
            page.screenshot(path=str(tmp_path / 'failure.png'))
            print(f'failure screenshot: {tmp_path / "failure.png"}')
            raise
        finally:
            ctx.close()
    assert not problems, '\n'.join(problems)
    assert not list((ROOT / 'nbs').glob('.ipynb_checkpoints/10_widgets*')), 'the test wrote into nbs/'
    print(f'screenshots in {tmp_path}')
    if not arrow_moved:
        pytest.xfail('Notebook 7 takes the arrow keys from a focused slider (its shortcuts run first); '
                     'page keys work')
