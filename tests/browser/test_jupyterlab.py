"""The course in a real browser: JupyterLab runs a chapter, and its diagram and widgets appear.

What a learner does after ``make lab``: open ``01_architecture.ipynb``, run
every cell, see the architecture diagram (an SVG drawn by Graphviz) and the
live widgets (ipywidgets, rendered by the JupyterLab widget manager). The
notebook tests prove the cells run; only a browser proves the outputs render.

The test starts JupyterLab on 127.0.0.1 (a free port, a random token, its
root a temporary copy of ``course/``, its settings, workspaces and runtime
files in temporary folders, the announcements plugin disabled so that the
news pop-up cannot cover the page, every cell rendered rather than only
those in view), drives Debian's Chromium through
Playwright (never ``playwright install``), runs the ``runmenu:run-all``
command from the Run menu, waits for the outputs, presses the clock's
"step" button to prove the widget talks to the kernel, and saves screenshots
to ``test-artifacts/``. JupyterLab and its kernels are stopped in every case.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOTEBOOK = "01_architecture.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
SERVER_START_TIMEOUT = 90          # seconds
UI_TIMEOUT = 90_000                # milliseconds: how long Playwright waits for the page (a loaded machine is slow)
RUN_ALL_TIMEOUT = 180_000          # milliseconds, for every cell of the notebook to run
DISABLED_PLUGINS = {"@jupyterlab/apputils-extension:announcements": True}

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason=f"Debian's chromium is not installed at {CHROMIUM} "
                                       "(`make setup` installs it; the test never downloads a browser)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """A JupyterLab server on loopback, in its own process group, with every state folder under ``home``."""

    def __init__(self, root_dir: Path, home: Path, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        config = home / "config"
        (config / "labconfig").mkdir(parents=True)
        (config / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": DISABLED_PLUGINS}))
        # Render every cell (JupyterLab 4 otherwise drops cells scrolled out of view from the page).
        tracker = home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}))
        venv_bin = str(Path(sys.executable).parent)
        self.env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
                        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                        PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""), **(env or {}))
        self.command = [sys.executable, "-m", "jupyterlab", "--no-browser",
                        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                        f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root_dir}",
                        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            self.command.append("--allow-root")
        self.log: list[str] = []
        self.process: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._ready.wait(SERVER_START_TIMEOUT) or self.process.poll() is not None:
            raise AssertionError(f"JupyterLab did not start on {self.url}:\n" + "".join(self.log[-60:]))

    def _read_log(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)
            if f"127.0.0.1:{self.port}/lab" in line:
                self._ready.set()
        self._ready.set()                # the server exited: wake start() so that it reports the log

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()     # jupyter_server shuts its kernels down on SIGTERM
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        try:                             # a kernel left behind by a crashed server is in the server's group
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def jupyterlab(tmp_path):
    root_dir = tmp_path / "course"
    shutil.copytree(ROOT / "course", root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = JupyterLab(root_dir, tmp_path / "jupyter")
    try:
        server.start()
        yield server
    finally:
        server.stop()


LAST_OUTPUT = "All checks passed. Next: course/02_etcd.ipynb"
"""What the chapter's last code cell prints when every check passed."""
ALL_CELLS_DONE = """() => {
    const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]
        .map(p => p.textContent.trim());
    return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
}"""


def test_running_the_architecture_chapter_shows_the_diagram_and_the_widgets(jupyterlab):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT)
            page.goto(f"{jupyterlab.url}/lab/tree/{NOTEBOOK}?token={jupyterlab.token}")

            # The notebook is open and its kernel has started and is idle (the status bar says so).
            expect(page.locator(".jp-NotebookPanel").first).to_be_visible(timeout=UI_TIMEOUT)
            expect(page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).first).to_be_visible(
                timeout=UI_TIMEOUT)

            # Run > Run All Cells: the runmenu:run-all command. Then wait for the last cell's output
            # (the chapter's check cell) and for every cell on screen to have its execution count.
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
            expect(page.get_by_text(LAST_OUTPUT)).to_be_visible(timeout=RUN_ALL_TIMEOUT)
            page.wait_for_function(ALL_CELLS_DONE, timeout=RUN_ALL_TIMEOUT)

            # No cell failed: an error output is rendered with the stderr MIME type.
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, "a cell failed or wrote to stderr:\n" + "\n---\n".join(errors.all_inner_texts())

            # The architecture diagram: an SVG from Graphviz, rendered (as an <img> of the SVG, or inline).
            diagram = page.locator(".jp-RenderedSVG").first
            expect(diagram).to_be_visible(timeout=UI_TIMEOUT)
            assert diagram.locator("img[src^='data:image/svg+xml'], svg").count() > 0, diagram.inner_html()[:500]
            diagram.evaluate("element => element.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-01_architecture-diagram.png"))

            # A live widget, rendered by the widget manager (not its text fallback, not an error).
            widget = page.locator(".jp-OutputArea-output .jupyter-widgets").first
            expect(widget).to_be_visible(timeout=UI_TIMEOUT)
            assert page.get_by_text("Error displaying widget").count() == 0
            widget.evaluate("element => element.scrollIntoView({block: 'center'})")
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-01_architecture-widgets.png"))
            # The widget is live: pressing "step" runs the kernel's cluster and the status line follows.
            controls = page.locator(".jp-OutputArea-output:has(.jupyter-widgets)", has=page.get_by_role(
                "button", name="step")).first
            status = controls.get_by_text(re.compile(r"^t = .* \(virtual\)")).first
            before = status.inner_text()
            controls.get_by_role("button", name="step").click()
            expect(status).not_to_have_text(before, timeout=UI_TIMEOUT)
            controls.screenshot(path=str(ARTIFACTS / "jupyterlab-01_architecture-widget-output.png"))
        except Exception:
            if page is not None:
                page.screenshot(path=str(ARTIFACTS / "jupyterlab-01_architecture-failure.png"))
            raise
        finally:
            browser.close()


TERMINAL_TEXT = """() => [...document.querySelectorAll('.jp-Terminal .xterm-accessibility-tree > div')]
    .map(row => row.textContent).join('\\n')"""
"""The terminal's screen as text: xterm.js's screen-reader rows (the screen itself is drawn on a canvas)."""


def test_a_jupyterlab_terminal_runs_the_real_kubectl_on_a_served_cluster(tmp_path):
    """00_welcome's section "The real kubectl on this notebook's cluster", as a learner follows it.

    The cell ``served = c.serve()`` prints an ``export KUBECONFIG=...`` line; in JupyterLab, File > New >
    Terminal opens a shell, where that line and ``kubectl get nodes`` list the served cluster's nodes. Here
    the test process serves the cluster (as the notebook's kernel does) and types the section's commands.
    """
    from playwright.sync_api import expect, sync_playwright

    import engine

    if shutil.which("kubectl") is None:
        pytest.skip("the real kubectl is not installed")
    home = tmp_path / "home"
    home.mkdir()                   # the terminal's HOME, where kubectl keeps its discovery cache
    settings = tmp_path / "jupyter" / "settings" / "@jupyterlab" / "terminal-extension" / "plugin.jupyterlab-settings"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"screenReaderMode": True}))
    c = engine.Cluster(nodes=3, seed=0)
    served = c.serve()
    export_line = f"export KUBECONFIG={served.kubeconfig_path}"
    root_dir = tmp_path / "course"
    root_dir.mkdir()
    server = JupyterLab(root_dir, tmp_path / "jupyter", env={"HOME": str(home)})
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        server.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = None
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(UI_TIMEOUT)
                page.goto(f"{server.url}/lab?token={server.token}")
                page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
                page.locator("li.lm-Menu-item[data-type='submenu']",
                             has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^New$"))).first.hover()
                page.locator("li.lm-Menu-item[data-command='terminal:create-new']").click()
                terminal = page.locator(".jp-Terminal").first
                expect(terminal).to_be_visible(timeout=UI_TIMEOUT)
                terminal.click()
                for command in (export_line, "kubectl get nodes"):
                    page.keyboard.type(command)
                    page.keyboard.press("Enter")
                page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('node-2')", timeout=UI_TIMEOUT)
                screen = page.evaluate(TERMINAL_TEXT)
                rows = [line.split() for line in screen.splitlines()]
                assert ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] in rows, screen
                assert [row[:3] for row in rows if row[:1] in (["node-1"], ["node-2"])] == \
                    [["node-1", "Ready", "<none>"], ["node-2", "Ready", "<none>"]], screen
                page.screenshot(path=str(ARTIFACTS / "jupyterlab-terminal-kubectl.png"))
            except Exception:
                if page is not None:
                    page.screenshot(path=str(ARTIFACTS / "jupyterlab-terminal-failure.png"))
                raise
            finally:
                browser.close()
    finally:
        server.stop()
        served.stop()
