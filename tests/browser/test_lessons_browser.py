"""Every lesson in a real browser: JupyterLab + Debian's chromium (Playwright).

Nothing is mocked: JupyterLab is started on loopback (serving a copy of ``notebooks/``),
Debian's chromium is driven by Playwright.  Without ``/usr/bin/chromium`` or the
``playwright`` package these tests are skipped with the command that installs them, except
under ``CI=true``, where they fail: CI must run them (``make test-slow`` as root installs
chromium).

For each notebook in ``notebooks/``: open it in JupyterLab, run all cells
(``notebook:run-all-cells`` resolves true, no error output, every code cell ran, every
widget rendered), then, for a lesson with a widget, change a control as a student would and
check the visible result the library promises.  Screenshots: ``artifacts/browser/``.

The table :data:`CHECKS` says, per lesson, which widget is checked, which control is changed,
how, and what text must then be visible.  A lesson that shows one of ldapnb's widgets but has
no row fails ("has a widget but no browser check"), so the table is kept up to date.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lab_harness import (
    CHROMIUM,
    LabServer,
    NotebookPage,
    chromium_path,
    launch_chromium,
    missing,
    start_lab,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

#: The repository (tests/browser/ is two levels down).
REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
#: Screenshots and the JupyterLab log of the last run (gitignored: ``/artifacts/``).
ARTIFACTS = REPO / "artifacts" / "browser"

#: ldapnb's widgets, and the label of a control that only that widget has: the output of
#: the first cell showing a control with that label is the widget.
ANCHORS: dict[str, str] = {
    "SearchExplorer": "Find name",
    "FilterTutor": "First N",
    "TreeBrowser": "Go to DN",
    "GroupExplorer": "Chain with",
    "WireViewer": "Message",
    "AuditDashboard": "Max nesting depth",
}

_WIDGET_CALL = re.compile(r"\b(" + "|".join(ANCHORS) + r")\s*\(")


#: What must be visible after a change: a text, a pattern, or a function computing the text
#: from ldapnb's library (not from the widget), called when the check runs.
Expected = str | re.Pattern[str] | Callable[[], str]


@dataclass(frozen=True)
class Check:
    """Change one control of a lesson's widget; the texts that must then be visible.

    Attributes
    ----------
    widget : str
        The widget's class (a key of :data:`ANCHORS`).
    control : str
        The control's label (its ipywidgets ``description``); for ``click``, a CSS selector
        inside the widget (``.jstree-anchor``: a node of the DIT tree).
    action : str
        How to change it (:data:`lab_harness.CONTROL_KINDS`): ``text`` (type), ``enter``
        (type, Enter), ``dropdown`` (pick), ``slider`` (type into its readout), ``toggle``
        (click a button), ``click``.
    value : str
        What is typed, picked (an option equal to it or containing it), or clicked.
    expect : tuple of Expected
        Every one must appear in the widget's output afterwards.
    shows_error : bool
        The change is a mistake on purpose: the widget must show ldapnb's error box
        (``.ldapnb-error``).  Otherwise an error box fails the check at once, quoting it.
    """

    widget: str
    control: str
    action: str
    value: str
    expect: tuple[Expected, ...]
    shows_error: bool = False

    def __str__(self) -> str:
        return f"{self.widget}: {self.action} {self.value!r} in {self.control!r}"


# -- what the library says (computed in the test process, never read from the widget) --------
TINY_CAROL = "uid=carol,ou=People,dc=example,dc=com"
TINY_ALICE = "uid=alice,ou=People,dc=example,dc=com"
CONTOSO_DA = "CN=Domain Admins,CN=Users,DC=contoso,DC=com"
AUDIT_NOW = datetime(2026, 11, 1, tzinfo=UTC)  # lesson 11's NOW: the fixture's reference date


@cache
def _directory(name: str) -> Any:
    from ldapnb import Directory

    return Directory.embedded(name)


def filter_error_position(text: str) -> Callable[[], str]:
    """``(position N)``: where :func:`ldapnb.filters.parse` says ``text`` goes wrong."""
    def expected() -> str:
        from ldapnb import filters
        from ldapnb.errors import FilterError

        try:
            filters.parse(text)
        except FilterError as exc:
            return f"(position {exc.position})"
        raise AssertionError(f"{text!r} parses: not a bad filter")
    return expected


def children_of(fixture: str, dn: str) -> Callable[[], str]:
    """``N child entries`` of ``dn`` in the fixture's DIT."""
    def expected() -> str:
        n = _directory(fixture).tree().out_degree(dn)
        return f"{n} child entr{'y' if n == 1 else 'ies'}"
    return expected


def contoso_alice_groups() -> str:
    """How many groups alice.martin is in, directly or nested (graph.effective_groups)."""
    from ldapnb import graph

    d = _directory("contoso")
    alice = d.search("(sAMAccountName=alice.martin)", attributes=["cn"]).dn[0]
    return f"member of {len(graph.effective_groups(d.graph(), alice))} group(s)"


def contoso_alice_chain_to_domain_admins() -> str:
    """The chain graph.why gives from alice.martin to Domain Admins, as labels."""
    from ldapnb import graph

    d = _directory("contoso")
    G = d.graph()
    alice = d.search("(sAMAccountName=alice.martin)", attributes=["cn"]).dn[0]
    chain = graph.why(G, alice, graph.lookup(G, CONTOSO_DA))[0]
    labels = " → ".join(str(G.nodes[n].get("label") or n) for n in chain)
    return f"Chain: {labels} ({len(chain) - 2} group(s) in between)"


def contoso_findings(**thresholds: int) -> Callable[[], str]:
    """``N findings``: audit.run on contoso with the dashboard's thresholds."""
    def expected() -> str:
        from ldapnb import audit

        return f"{len(audit.run(_directory('contoso'), now=AUDIT_NOW, **thresholds))} findings"
    return expected


#: lesson (notebook stem) -> the checks run after "run all", in order.  Every lesson that
#: shows one of ldapnb's widgets needs a row.
CHECKS: dict[str, tuple[Check, ...]] = {
    "01-what-is-a-directory": (
        Check("TreeBrowser", ".jstree-anchor", "click", "dc=example,dc=com",
              (children_of("tiny", "dc=example,dc=com"),)),
        Check("TreeBrowser", "Go to DN", "enter", "UID=carol, OU=people, DC=example, DC=com",
              ("Carol Clark", TINY_CAROL)),
    ),
    "02-search": (
        Check("FilterTutor", "Filter", "text", "(uid=alice",
              ("FilterError", filter_error_position("(uid=alice")), shows_error=True),
        Check("SearchExplorer", "Filter", "text", "(uid=carol)",
              ("1 entry for (uid=carol)", TINY_CAROL)),
        Check("SearchExplorer", "Find name", "enter", "*",  # escaped: a literal star
              ("0 entries for (|(cn=*\\2a*)",)),
    ),
    "03-bind-and-authentication": (
        Check("SearchExplorer", "Filter", "text", "(&(userPassword=*)(uid=bjensen))",
              ("1 entry for", "uid=bjensen,ou=Engineering,ou=People,dc=example,dc=org")),
    ),
    "04-authorization": (
        Check("SearchExplorer", "Filter", "text", "(uid=alice)",
              ("1 entry for (uid=alice)", TINY_ALICE)),
    ),
    "05-port-389-on-the-wire": (
        Check("WireViewer", "Message", "dropdown", "bindResponse",
              ("bindResponse: success",)),
    ),
    "06-ldaps-on-636": (
        Check("WireViewer", "Message", "dropdown", "application_data",
              ("encrypted - unreadable",)),
    ),
    "07-starttls": (
        Check("WireViewer", "Message", "dropdown", "extendedResp",
              ("extendedResp: extended response: success",)),
    ),
    "08-replication": (
        Check("SearchExplorer", "Scope", "toggle", "base", ("0 entries for (uid=bob)",)),
    ),
    "09-firewalls-and-troubleshooting": (
        Check("SearchExplorer", "Base", "dropdown", "ou=Groups,dc=example,dc=com",
              ("0 entries for (objectClass=person)",)),
        Check("SearchExplorer", "Filter", "text", "(cn=admins)",
              ("1 entry for (cn=admins)", "cn=admins,ou=Groups,dc=example,dc=com")),
    ),
    "10-active-directory": (
        Check("GroupExplorer", "Pick", "enter", "alice.martin", (contoso_alice_groups,)),
        Check("GroupExplorer", "Chain with", "dropdown", "Domain Admins",
              (contoso_alice_chain_to_domain_admins,)),
    ),
    "11-auditing-group-memberships": (
        Check("AuditDashboard", "Max nesting depth", "slider", "1",
              (contoso_findings(max_depth=1),)),
    ),
}

#: lesson -> texts that must be visible in its outputs after "run all" (rendered, not only
#: computed).
OUTPUTS: dict[str, tuple[str, ...]] = {
    "00-welcome": ("Directory embedded 'example'", "uid=bjensen,ou=Engineering",
                   "FilterError: unexpected text after the end of the filter",
                   "✎ Your turn (exercise 00.1)"),
    "01-what-is-a-directory": ("missing required attribute sn", "✎ Your turn (exercise 01.5)"),
    "02-search": ("no ordering rule for 'employeeNumber': Undefined",
                  "✎ Your turn (exercise 02.5)"),
    "03-bind-and-authentication": ("✎ Your turn (exercise 03.4)",),
    "04-authorization": ("✎ Your turn (exercise 04.3)",),
    "08-replication": ("✎ Your turn (exercise 08.1)", "✗ Not yet (exercise 08.3)"),
    "10-active-directory": ("ACCOUNTDISABLE|NORMAL_ACCOUNT", "✎ Your turn (exercise 10.3)"),
    "11-auditing-group-memberships": ("contoso-audit.html", "✎ Your turn (exercise 11.3)"),
}

LESSONS = sorted(NOTEBOOKS.glob("*.ipynb"))


def code_sources(path: Path) -> list[str]:
    """The sources of a notebook's code cells."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c["cell_type"] == "code"]


def widgets_used(path: Path) -> set[str]:
    """ldapnb widget classes a notebook's code constructs (``SearchExplorer(`` ...)."""
    return {m.group(1) for src in code_sources(path) for m in _WIDGET_CALL.finditer(src)}


def untagged_errors(errors: list[dict], allowed: str = "raises-exception") -> list[str]:
    """Error outputs not in a cell tagged ``raises-exception``, as readable lines."""
    return [f"cell {e['cell']}: {e['ename']}: {e['evalue']}" for e in errors
            if allowed not in (e.get("tags") or [])]


# -- fixtures: one JupyterLab and one chromium for the session ------------------------------
# (here, not in a conftest.py: with --doctest-modules and no __init__.py, a second
# "conftest" module breaks the collection of tests/conftest.py, "import file mismatch")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``artifacts/browser/`` (created; earlier screenshots are replaced as tests rerun)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian's chromium through Playwright: one persistent context for the session."""
    if chromium_path() is None:
        missing(f"{CHROMIUM} is not installed: as root, `apt-get install -y chromium` "
                "(make test does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed: `.venv/bin/pip install playwright` "
                "(never `playwright install`: Debian's chromium is used)")
    playwright = sync_playwright().start()
    try:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
    except BaseException:
        playwright.stop()
        raise
    context.set_default_timeout(30_000)
    yield context
    context.close()
    playwright.stop()


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory,
               artifacts: Path) -> Iterator[LabServer]:
    """JupyterLab serving a copy of ``notebooks/`` on a free loopback port, with a token.

    Its log is copied to ``artifacts/browser/jupyterlab.log`` when the session ends.
    """
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "lessons"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = start_lab(root, base / "state")
    try:
        yield server
    finally:
        server.stop()
        if server.log.exists():
            shutil.copy(server.log, artifacts / "jupyterlab.log")


def test_there_are_lessons() -> None:
    assert LESSONS, f"no notebooks in {NOTEBOOKS}"


def test_every_widget_lesson_has_a_browser_check() -> None:
    """The table follows the lessons: a widget lesson without a row, or a stale row, fails."""
    stems = {p.stem: p for p in LESSONS}
    problems = []
    for stem, path in stems.items():
        used = widgets_used(path)
        if used and not CHECKS.get(stem):
            problems.append(f"lesson {stem} has a widget ({', '.join(sorted(used))}) but no "
                            "browser check: add a row to CHECKS in " + Path(__file__).name)
        for check in CHECKS.get(stem, ()):
            if check.widget not in used:
                problems.append(f"CHECKS[{stem!r}] checks {check.widget}, which the lesson "
                                f"does not show (it shows {sorted(used) or 'no widget'})")
    for stem in sorted(set(CHECKS) - set(stems)):
        problems.append(f"CHECKS names {stem!r}, which is not a notebook in {NOTEBOOKS}")
    assert problems == [], "\n".join(problems)


def test_checks_use_known_widgets_and_actions() -> None:
    from lab_harness import CONTROL_KINDS

    bad = [f"{stem}: {c}" for stem, checks in CHECKS.items() for c in checks
           if c.widget not in ANCHORS or c.action not in CONTROL_KINDS]
    assert bad == []


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_browser_fails_under_ci(ci: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from lab_harness import missing

    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        missing("/usr/bin/chromium is not installed")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        missing("/usr/bin/chromium is not installed")


def run_check(nb: NotebookPage, check: Check, shots: Path, name: str) -> str:
    """Change the control; wait until the widget's text changes and shows every expected
    text; screenshots before and after.  Returns the widget's visible text afterwards."""
    from playwright.sync_api import expect

    out = nb.widget_output(ANCHORS[check.widget])
    expect(out, f"{name}: no output shows {check.widget} (a control labelled "
                f"{ANCHORS[check.widget]!r}); is it shown only when slapd is installed?"
           ).to_be_visible()
    out.scroll_into_view_if_needed()
    before = out.inner_text()
    out.screenshot(path=str(shots / f"{name}-before.png"))
    nb.set_control(out, check.control, check.action, check.value)
    expect(out, f"{name}: {check} changed nothing visible").not_to_have_text(
        before, timeout=30_000)
    errors = out.locator(".ldapnb-error")
    if check.shows_error:
        expect(errors.first, f"{name}: {check} shows no error box").to_be_visible()
    else:
        nb.wait_for_idle(settle=0)
        assert errors.count() == 0, (
            f"{name}: after {check}, the widget shows an error: "
            + " | ".join(errors.all_inner_texts()))
    for wanted in check.expect:
        text = wanted() if callable(wanted) else wanted
        expect(out, f"{name}: after {check}, the widget does not show {text!r}"
               ).to_contain_text(text, timeout=30_000)
    nb.wait_for_idle()
    out.screenshot(path=str(shots / f"{name}-after.png"))
    return out.inner_text()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("browser")  # one JupyterLab and one chromium, on one xdist worker
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_in_browser(lesson: Path, browser: BrowserContext, lab_server: LabServer,
                           artifacts: Path) -> None:
    stem = lesson.stem
    for old in artifacts.glob(f"{stem}*.png"):  # this lesson's screenshots of an earlier run
        old.unlink()
    used = widgets_used(lesson)
    checks = CHECKS.get(stem, ())
    if used and not checks:
        pytest.fail(f"lesson {stem} has a widget ({', '.join(sorted(used))}) but no browser "
                    f"check: add a row to CHECKS in {Path(__file__).name}", pytrace=False)
    nb = NotebookPage.open(browser, lab_server, lesson.name)
    try:
        ok = nb.run_all()
        errors = nb.cell_errors()
        assert untagged_errors(errors) == [], f"{stem}: cells raised"
        assert ok or errors, f"{stem}: run-all-cells resolved false with no error output"
        state = nb.cell_state()
        assert state["run"] == state["code"], f"{stem}: only {state} code cells ran"
        assert nb.wait_for_widgets() == [], f"{stem}: widgets did not render"
        shown = nb.output_text()
        for text in OUTPUTS.get(stem, ()):
            assert text in shown, f"{stem}: {text!r} is not visible in the outputs"
        nb.screenshot(artifacts / f"{stem}.png")
        for i, check in enumerate(checks, 1):
            run_check(nb, check, artifacts, f"{stem}-{i}-{check.widget}")
        callbacks = [f"{e['ename']}: {e['evalue']}" for e in nb.kernel_errors()
                     if e["parent"] == "comm_msg"]
        assert callbacks == [], f"{stem}: a widget callback raised (shown in no cell)"
        assert nb.console == [], f"{stem}: errors in the browser's console"
    except BaseException:
        try:
            nb.screenshot(artifacts / f"{stem}-FAILED.png")
        except Exception:  # the first failure is the one to report
            pass
        raise
    finally:
        nb.shutdown_kernel()
        nb.close()
