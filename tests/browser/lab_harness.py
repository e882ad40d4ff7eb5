"""Drive a real JupyterLab in Debian's chromium (Playwright): the browser tests' harness.

Facts from ``../shared/RECIPES.md`` ("A real browser against a real JupyterLab"), as code:

- JupyterLab runs on loopback on a free port with a token, its own config, data, runtime,
  workspaces and settings folders (nothing of the user's ``~/.jupyter`` is read or
  written), and serves a *copy* of the notebooks, never the repository's;
- the news pop-up, update checks and autosave are turned off through
  ``<config>/labconfig/default_setting_overrides.json`` (read by jupyterlab_server from
  every Jupyter config folder), so the venv's ``share/jupyter/lab/settings`` is untouched;
- Debian's ``/usr/bin/chromium`` is launched by Playwright for Python with
  ``launch_persistent_context`` (never ``playwright install``);
- a notebook is opened at ``/lab/workspaces/<unique>/tree/NB.ipynb?reset&token=T`` (else Lab
  reopens old tabs); once the kernel is ``connected`` and ``idle``,
  ``window.jupyterapp.commands.execute('notebook:run-all-cells')`` resolves ``true``, or
  ``false`` when a cell raised.

This module is named ``lab_harness`` and not ``jupyterlab``: pytest puts this folder on
``sys.path``, where a ``jupyterlab.py`` would shadow the real ``jupyterlab`` package for the
whole test session (and for ``python -m jupyterlab`` started from here).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page, Playwright

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "CONTROL_KINDS",
    "LAB_SETTINGS",
    "LabServer",
    "LabError",
    "NotebookPage",
    "chromium_path",
    "free_port",
    "get_json",
    "in_ci",
    "lab_environment",
    "launch_chromium",
    "missing",
    "start_lab",
    "stop_process_group",
    "wait_for_status",
]

#: Debian's chromium (``apt-get install chromium``).
CHROMIUM = Path("/usr/bin/chromium")

#: Flags that work on these machines (root, no GPU, no /dev/shm to speak of, no network).
#: The user-data-dir is given to ``launch_persistent_context``, never here (it is rejected).
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

#: JupyterLab settings for tests: no news pop-up, no update check, no autosave (the copy
#: being served stays as it was opened).
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    # every cell in the DOM (JupyterLab 4 otherwise renders only the cells near the view, so
    # the outputs of a long lesson's first cells could not be read)
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


#: How :meth:`NotebookPage.set_control` can change a control.
CONTROL_KINDS: tuple[str, ...] = ("text", "enter", "dropdown", "slider", "toggle", "click")


class LabError(RuntimeError):
    """JupyterLab or the browser did not do what the harness waited for (with the log)."""


def in_ci() -> bool:
    """True when the ``CI`` environment variable says so (``true``, ``1``, ``yes``)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str) -> NoReturn:
    """Skip the test (on a workstation) or fail it (under ``CI=true``): ``what`` is missing.

    Raises
    ------
    pytest.fail.Exception
        Under ``CI=true``: CI must run the browser tests.
    pytest.skip.Exception
        Elsewhere.
    """
    import pytest

    if in_ci():
        pytest.fail(f"{what} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(what)


def chromium_path() -> Path | None:
    """Debian's chromium if it is installed, else None.

    Examples
    --------
    >>> chromium_path() in (None, CHROMIUM)
    True
    """
    return CHROMIUM if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK) else None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now.

    Examples
    --------
    >>> 1024 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lab_environment(state: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a JupyterLab of its own: every Jupyter folder under ``state``
    (config with :data:`LAB_SETTINGS`, data, runtime, workspaces, user settings, IPython).

    Parameters
    ----------
    state : Path
        A folder for this server's state (created).
    base : mapping, optional
        The environment to start from (default: ``os.environ``).

    Returns
    -------
    dict
        The environment for ``subprocess``.

    Examples
    --------
    >>> import tempfile
    >>> env = lab_environment(Path(tempfile.mkdtemp()), base={"PATH": "/usr/bin"})
    >>> sorted(k for k in env if k.startswith("JUPYTER"))  # doctest: +NORMALIZE_WHITESPACE
    ['JUPYTERLAB_SETTINGS_DIR', 'JUPYTERLAB_WORKSPACES_DIR', 'JUPYTER_CONFIG_DIR',
     'JUPYTER_DATA_DIR', 'JUPYTER_RUNTIME_DIR']
    >>> Path(env["JUPYTER_CONFIG_DIR"], "labconfig", "default_setting_overrides.json").is_file()
    True
    """
    env = dict(os.environ if base is None else base)
    dirs = {
        "JUPYTER_CONFIG_DIR": state / "config",
        "JUPYTER_DATA_DIR": state / "data",
        "JUPYTER_RUNTIME_DIR": state / "runtime",
        "JUPYTERLAB_WORKSPACES_DIR": state / "workspaces",
        "JUPYTERLAB_SETTINGS_DIR": state / "user-settings",
        "IPYTHONDIR": state / "ipython",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "default_setting_overrides.json").write_text(
        json.dumps(LAB_SETTINGS, indent=1), encoding="utf-8")
    env.pop("JUPYTER_TOKEN", None)
    env["BROWSER"] = "true"  # should anything try to open a browser: the no-op command
    return env


def wait_for_status(url: str, token: str, *, timeout: float,
                    process: subprocess.Popen[bytes] | None = None,
                    log: Path | None = None) -> dict[str, Any]:
    """Poll ``url/api/status`` until it answers 200 (returns its JSON).

    Raises
    ------
    LabError
        The process ended first, or ``timeout`` seconds passed (the log's tail is quoted).
    """
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise LabError(f"JupyterLab exited with {process.returncode} before answering "
                           f"{url}/api/status{_tail(log)}")
        try:
            return get_json(url, "/api/status", token, timeout=2)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise LabError(f"{url}/api/status did not answer in {timeout:.0f} s ({last}){_tail(log)}")


def get_json(url: str, path: str, token: str, *, timeout: float = 10) -> Any:
    """GET ``url + path`` with the token in the Authorization header; the JSON answer."""
    request = urllib.request.Request(url.rstrip("/") + path,
                                     headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response open (a ResourceWarning under pytest)
        raise


def _tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n--- last lines of " + str(log) + " ---\n" + "\n".join(text)


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 15) -> int | None:
    """SIGTERM the process group ``process`` leads (it was started with
    ``start_new_session=True``), then SIGKILL what is left; the exit code."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:  # anything left in the group (kernels run in sessions of their own: see LabServer.stop)
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignored
        pass
    return process.returncode


@dataclass
class LabServer:
    """A running JupyterLab: its URL, token, the folder it serves and its log."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    root: Path
    log: Path
    state: Path
    started_in: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str) -> Any:
        """GET ``/api/...`` (JSON)."""
        return get_json(self.url, path, self.token)

    def notebook_url(self, name: str, workspace: str | None = None) -> str:
        """The URL opening ``name`` alone in a fresh workspace."""
        workspace = workspace or f"t{uuid.uuid4().hex[:12]}"
        return (f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}")

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log, lines)

    def stop(self) -> int | None:
        """Stop the kernels (each runs in its own process group: asked through the REST API,
        so their ``atexit`` hooks stop any slapd they started), then the server's group."""
        if self.process.poll() is None:
            try:
                for kernel in self.api("/api/kernels"):
                    request = urllib.request.Request(
                        f"{self.url}/api/kernels/{kernel['id']}", method="DELETE",
                        headers={"Authorization": f"token {self.token}"})
                    with urllib.request.urlopen(request, timeout=15):
                        pass
            except urllib.error.HTTPError as exc:
                exc.close()
            except (OSError, ValueError):
                pass  # the server stops its kernels on SIGTERM too
        return stop_process_group(self.process)


def start_lab(root: Path, state: Path, *, timeout: float = 90,
              extra_args: Sequence[str] = ()) -> LabServer:
    """Start ``jupyter lab`` serving ``root`` on a free loopback port; wait for /api/status.

    Parameters
    ----------
    root : Path
        The folder served (a copy of the notebooks).
    state : Path
        A folder for the server's own Jupyter folders and its log.
    timeout : float
        Seconds to wait for ``/api/status``.
    extra_args : sequence of str
        More ``jupyter lab`` arguments.

    Returns
    -------
    LabServer

    Raises
    ------
    LabError
        JupyterLab did not answer in time (the log's tail is in the message).
    """
    env = lab_environment(state)
    token = uuid.uuid4().hex
    port = free_port()
    log = state / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", "--port-retries=0", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        *extra_args,
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    server = LabServer(process, port, token, root, log, state)
    try:
        wait_for_status(server.url, token, timeout=timeout, process=process, log=log)
    except BaseException:
        server.stop()
        raise
    server.started_in = time.monotonic() - started
    return server


def launch_chromium(playwright: Playwright, user_data_dir: Path, *,
                    viewport: tuple[int, int] = (1400, 1000)) -> BrowserContext:
    """Debian's chromium, headless, through Playwright (one persistent context)."""
    path = chromium_path()
    if path is None:
        raise LabError(f"{CHROMIUM} is missing: as root, `apt-get install -y chromium`")
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=str(path), headless=True,
        args=list(CHROMIUM_ARGS), viewport={"width": viewport[0], "height": viewport[1]})


# JavaScript run in the page -----------------------------------------------------------------
_JS_KERNEL_READY = """(name) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  if (!w || !w.context || !w.context.path.endsWith(name)) { return false; }
  const k = w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""

_JS_LISTEN = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  window.ldapnbKernelErrors = [];
  w.sessionContext.iopubMessage.connect((_, msg) => {
    if (msg.header.msg_type === 'error') {
      const parent = msg.parent_header || {};
      window.ldapnbKernelErrors.push({parent: parent.msg_type || '', ename: msg.content.ename,
                                      evalue: msg.content.evalue});
    }
  });
  return true;
}"""

_JS_RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"

_JS_CELL_ERRORS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const out = [];
  const cells = w.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') { continue; }
    const json = c.toJSON();
    const tags = (json.metadata && json.metadata.tags) || [];
    for (const o of json.outputs || []) {
      if (o.output_type === 'error') {
        out.push({cell: i, ename: o.ename, evalue: o.evalue, tags: tags});
      }
    }
  }
  return out;
}"""

_JS_CELL_STATE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.model.cells;
  let code = 0, run = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') { continue; }
    code += 1;
    if (c.executionCount !== null && c.executionCount !== undefined) { run += 1; }
  }
  return {code, run, busy: w.sessionContext.session.kernel.status};
}"""


@dataclass
class NotebookPage:
    """One notebook open in JupyterLab in a browser page.

    Attributes
    ----------
    page : playwright Page
    server : LabServer
    name : str
        The notebook's path relative to the served folder.
    console : list of str
        The page's console errors and uncaught exceptions, as they came.
    """

    page: Page
    server: LabServer
    name: str
    console: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def open(cls, context: BrowserContext, server: LabServer, name: str, *,
             timeout: float = 90) -> NotebookPage:
        """Open ``name`` in a new page and wait until its kernel is connected and idle."""
        page = context.new_page()
        nb = cls(page, server, name)
        page.on("console", lambda m: nb.console.append(f"{m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: nb.console.append(f"pageerror: {e}"))
        started = time.monotonic()
        page.goto(server.notebook_url(name), wait_until="domcontentloaded",
                  timeout=timeout * 1000)
        try:
            page.wait_for_function(_JS_KERNEL_READY, arg=name, timeout=timeout * 1000,
                                   polling=200)
        except Exception as exc:
            raise LabError(f"{name}: the kernel was not connected and idle after "
                           f"{timeout:.0f} s ({exc}){server.log_tail()}") from exc
        page.evaluate(_JS_LISTEN)
        nb.timings["open"] = time.monotonic() - started
        return nb

    def run_all(self, *, timeout: float = 180) -> bool:
        """Run every cell (``notebook:run-all-cells``); True when none raised."""
        started = time.monotonic()
        self.page.set_default_timeout(timeout * 1000)
        try:
            ok = bool(self.page.evaluate(_JS_RUN_ALL))
        finally:
            self.page.set_default_timeout(30_000)
        self.timings["run_all"] = time.monotonic() - started
        return ok

    def cell_errors(self) -> list[dict[str, Any]]:
        """Every error output in the notebook's model: ``{"cell": N (0-based, markdown
        included), "ename", "evalue", "tags"}``."""
        return list(self.page.evaluate(_JS_CELL_ERRORS))

    def kernel_errors(self) -> list[dict[str, str]]:
        """Every ``error`` message the kernel sent since the notebook was opened:
        ``{"parent": "execute_request" | "comm_msg" | ..., "ename", "evalue"}``.  An error
        answering a ``comm_msg`` is a widget callback that raised: JupyterLab shows it in no
        cell (only in its log console)."""
        return list(self.page.evaluate("() => window.ldapnbKernelErrors || []"))

    def shutdown_kernel(self) -> None:
        """Shut the notebook's kernel down (frees memory between lessons)."""
        self.page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")

    def wait_for_idle(self, *, timeout: float = 30, settle: float = 0.3) -> None:
        """Wait until the kernel is idle (every widget update it sends has been sent), then
        ``settle`` seconds for the page to draw them."""
        self.page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            ".status === 'idle'", timeout=timeout * 1000, polling=100)
        self.page.wait_for_timeout(settle * 1000)

    def cell_state(self) -> dict[str, Any]:
        """How many code cells there are and how many have run."""
        return dict(self.page.evaluate(_JS_CELL_STATE))

    def outputs(self) -> Locator:
        """Every rendered output (``.jp-OutputArea-output``)."""
        return self.page.locator(".jp-OutputArea-output")

    def output_text(self) -> str:
        """The visible text of all outputs, joined."""
        return "\n".join(self.outputs().all_inner_texts())

    def wait_for_widgets(self, *, timeout: float = 60) -> list[str]:
        """Wait until no widget output says "Loading widget..."; the texts of widget
        outputs that failed to render ("Error displaying widget")."""
        deadline = time.monotonic() + timeout
        loading = self.outputs().filter(has_text=re.compile(r"Loading widget", re.I))
        while loading.count() and time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
        broken = self.outputs().filter(
            has_text=re.compile(r"Error displaying widget|Error rendering|model not found",
                                re.I))
        texts = broken.all_inner_texts()
        if loading.count():
            texts += [f"still loading after {timeout:.0f} s: {t[:200]}"
                      for t in loading.all_inner_texts()]
        return texts

    def widget_output(self, label: str) -> Locator:
        """The first output holding a widget control labelled exactly ``label``
        (an ipywidgets ``description``)."""
        return self.outputs().filter(has=self.label(label)).first

    def label(self, text: str) -> Locator:
        """ipywidgets labels (``.widget-label``) whose text is exactly ``text`` (usable as
        ``has=`` inside any locator)."""
        return self.page.locator(".widget-label").filter(
            has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))

    def control(self, within: Locator, label: str, kind: str) -> Locator:
        """The control labelled ``label`` inside ``within``.

        ``kind`` is one of :data:`CONTROL_KINDS`: ``"text"`` / ``"enter"`` (a Text or
        Combobox: its ``input``), ``"dropdown"`` (its ``select``), ``"slider"`` (its
        editable readout), ``"toggle"`` (the ToggleButtons box); for ``"click"``,
        ``label`` is a CSS selector (``.jstree-anchor``: ipytree's nodes) and every match
        is returned.
        """
        if kind not in CONTROL_KINDS:
            raise ValueError(f"kind must be one of {CONTROL_KINDS}, not {kind!r}")
        if kind == "click":
            return within.locator(label)
        boxes = {"text": ".widget-text", "enter": ".widget-text",
                 "dropdown": ".widget-dropdown", "slider": ".widget-slider",
                 "toggle": ".widget-toggle-buttons"}
        inner = {"text": "input", "enter": "input", "dropdown": "select",
                 "slider": ".widget-readout"}
        box = within.locator(boxes[kind]).filter(has=self.label(label)).first
        if kind == "toggle":
            return box
        return box.locator(inner[kind]).first

    def set_control(self, within: Locator, label: str, kind: str, value: str) -> str:
        """Change a control as a user does; returns the value actually chosen.

        - ``"text"``: type ``value`` (replacing the text; a continuously updated Text);
        - ``"enter"``: type ``value`` and press Enter (``continuous_update=False``, Combobox);
        - ``"dropdown"``: pick the option equal to ``value``, else the first containing it;
        - ``"slider"``: type ``value`` into the slider's readout and press Enter;
        - ``"toggle"``: click the button whose text is ``value``;
        - ``"click"``: click the first element matching the selector ``label`` whose text
          contains ``value``.
        """
        control = self.control(within, label, kind)
        if kind == "click":
            target = control.filter(has_text=value).first
            target.scroll_into_view_if_needed()
            target.click()
            return value
        control.scroll_into_view_if_needed()
        if kind == "text":
            control.fill(value)
        elif kind == "enter":
            control.fill(value)
            control.press("Enter")
        elif kind == "dropdown":
            options: list[str] = control.evaluate("s => Array.from(s.options).map(o => o.value)")
            chosen = value if value in options else next(
                (o for o in options if value in o), None)
            if chosen is None:
                raise LabError(f"dropdown {label!r} has no option like {value!r}: {options}")
            control.select_option(value=chosen)
            return chosen
        elif kind == "slider":
            control.click()
            control.press("Control+a")
            control.press_sequentially(value)
            control.press("Enter")
        else:  # toggle
            control.locator(".widget-toggle-button").filter(
                has_text=re.compile(rf"^\s*{re.escape(value)}\s*$")).first.click()
        return value

    def screenshot(self, path: Path) -> Path:
        """A full-page screenshot (the notebook scrolled to the last run cell)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.page.close()
