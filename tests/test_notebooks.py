"""Every lesson runs headless, top to bottom, with the assertions it carries; every lesson
follows the exercise convention of :mod:`ldapnb.teach.exercises`.

Notebooks are executed on a copy (never in place: they stay committed without outputs) with
nbclient and a real ipykernel, two at a time (each kernel is its own process), once per
session; a cell that raises fails its lesson's test, naming the cell, unless it is tagged
``raises-exception`` (a lesson that shows an error on purpose), and then the error must be
ldapnb's one-line message, not a traceback.

All lessons together must run within :data:`BUDGET` seconds of CPU time (kernels and the
servers they start: ``getrusage(RUSAGE_CHILDREN)``), which is what they take on a quiet
2-core machine; the wall time is printed too, but on a shared machine (or beside the other
test files under ``make test``) it measures the machine's load more than the lessons.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kernels import ipc_kernels

from ldapnb.teach import exercises, solutions

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("*.ipynb"))
#: Seconds for running every lesson headless (issue 12: "<= 60 s total").
BUDGET = 60.0
#: Kernels run at once.
PARALLEL = 3
#: The tests reading :func:`runs`: one xdist worker executes the lessons once for all of them
#: (the Makefile runs ``--dist loadgroup``).  Not ``slow``: ``make test`` runs every lesson
#: once, headless, with the assertions each lesson makes (about 25 s); the slow lanes run them
#: again in Binder's fresh environment and in a browser.
ON_RUNS = (pytest.mark.lessons, pytest.mark.xdist_group("lessons"))


def on_runs(test: Any) -> Any:
    for mark in ON_RUNS:
        test = mark(test)
    return test


def cells(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict[str, Any]) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def tags(cell: dict[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


@dataclass
class Run:
    """One executed lesson: the notebook with its outputs, how long it took, what failed."""

    path: Path
    nb: Any = None
    seconds: float = 0.0
    failure: str | None = None
    errors: list[tuple[int, bool, Any]] = field(default_factory=list)  # (cell, tagged, output)


def _execute(path: Path) -> Run:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    run = Run(path)
    folder = Path(tempfile.mkdtemp(prefix=f"ldapnb-{path.stem}-"))
    sockets = Path(tempfile.mkdtemp(prefix="k-"))  # short: a socket name is <= 107 bytes
    try:
        copy = folder / path.name
        shutil.copy(path, copy)
        nb = nbformat.read(copy, as_version=4)
        client = NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}},
                                config=ipc_kernels(sockets))
        started = time.monotonic()
        try:
            client.execute()
        except CellExecutionError as exc:
            run.failure = str(exc)
        except Exception as exc:  # noqa: BLE001 - the kernel itself failed: this lesson's
            run.failure = f"{type(exc).__name__}: {exc}"  # failure, not every lesson's
        run.seconds = time.monotonic() - started
        run.nb = nb
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
                if out.get("output_type") == "error":
                    run.errors.append((i, "raises-exception" in tags(cell), out))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(sockets, ignore_errors=True)
        # nbclient runs on an event loop made for this worker thread: close it here, or its
        # sockets are found unclosed (ResourceWarning) during some later test
        from jupyter_core.utils import ensure_event_loop

        ensure_event_loop().close()
    return run


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture(scope="session")
def runs() -> dict[str, Run]:
    """Every lesson, executed once, :data:`PARALLEL` at a time; the wall and CPU times."""
    started, cpu = time.monotonic(), _children_cpu()
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        done = {r.path.stem: r for r in pool.map(_execute, LESSONS)}
    done["__wall__"] = Run(NOTEBOOKS, seconds=time.monotonic() - started)
    done["__cpu__"] = Run(NOTEBOOKS, seconds=_children_cpu() - cpu)
    return done


def test_there_are_lessons() -> None:
    assert LESSONS, f"no notebooks in {NOTEBOOKS}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_committed_without_outputs(path: Path) -> None:
    dirty = [i for i, c in enumerate(cells(path))
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert dirty == [], f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@on_runs
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs(path: Path, runs: dict[str, Run]) -> None:
    run = runs[path.stem]
    assert run.failure is None, f"{path.name} failed:\n{run.failure}"
    untagged = [(i, o.get("ename")) for i, tagged, o in run.errors if not tagged]
    assert untagged == []
    for i, _, out in run.errors:  # errors shown on purpose: ldapnb's one readable message
        text = "\n".join(out.get("traceback", []))
        assert "%tb" in text and "File " not in text and len(text.splitlines()) <= 6, \
            f"{path.name} cell {i}: the error shows a traceback, not ldapnb's message:\n{text}"


@on_runs
def test_all_lessons_run_within_the_budget(runs: dict[str, Run]) -> None:
    per = {stem: round(r.seconds, 1) for stem, r in runs.items() if not stem.startswith("__")}
    wall, cpu = runs["__wall__"].seconds, runs["__cpu__"].seconds
    print(f"lessons: {cpu:.1f} s CPU, {wall:.1f} s wall ({PARALLEL} at a time), each: {per}")
    assert 0 < cpu <= BUDGET, f"the lessons took {cpu:.1f} s of CPU together (budget " \
                              f"{BUDGET} s; {wall:.1f} s wall): {per}"


# -- the exercise convention (ldapnb/teach/exercises.py) ------------------------------------------
def _exercise_cells(path: Path) -> list[tuple[int, str, dict[str, Any]]]:
    out = []
    for i, c in enumerate(cells(path)):
        meta = c.get("metadata", {}).get("ldapnb", {})
        if "exercise" in tags(c) or "exercise" in meta:
            out.append((i, str(meta.get("exercise", "")), c))
    return out


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_follows_the_exercise_convention(path: Path) -> None:
    all_cells = cells(path)
    markdown = [source(c) for c in all_cells if c["cell_type"] == "markdown"]
    code = [source(c) for c in all_cells if c["cell_type"] == "code"]
    assert re.search(r"By the end of this|\*\*Objectives", markdown[0]), \
        f"{path.name}: no objectives at the start"
    last_exercise = max((i for i, _, _ in _exercise_cells(path)), default=0)
    closing = "\n".join(source(c) for c in all_cells[last_exercise:]
                        if c["cell_type"] == "markdown")
    assert "## Takeaways" in closing and "## Further reading" in closing, \
        f"{path.name}: takeaways and further reading must close the lesson"
    assert re.search(r"RFC \d{4}", closing), f"{path.name}: further reading cites no RFC"
    assert "from ldapnb.teach import" in code[0] and "exercises" in code[0], \
        f"{path.name}: the first code cell must import ldapnb.teach's exercises"
    hidden = [i for i, c in enumerate(all_cells)
              if c.get("metadata", {}).get("jupyter", {}).get("source_hidden")
              or "solution" in tags(c)]
    assert hidden == [], f"{path.name}: solution or hidden cells {hidden}: solutions live in " \
                         "ldapnb.teach.solutions, never in a notebook"
    found = _exercise_cells(path)
    assert found, f"{path.name}: no exercise"
    kinds = set()
    for i, id, c in found:
        assert id in exercises.EXERCISES, f"{path.name} cell {i}: unknown exercise {id!r}"
        assert id.split(".")[0] == path.stem.split("-")[0], f"{path.name}: {id} is another lesson's"
        assert f'exercises.check("{id}"' in source(c), f"{path.name} cell {i}: no check of {id}"
        kinds.add(exercises.EXERCISES[id].kind)
    assert kinds & {"build", "debug"}, f"{path.name}: no build or debug exercise"


def test_every_exercise_is_in_its_lesson() -> None:
    used = {id for p in LESSONS for _, id, _ in _exercise_cells(p)}
    assert set(exercises.EXERCISES) <= used, \
        f"exercises in no lesson: {sorted(set(exercises.EXERCISES) - used)}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_no_cell_above_an_exercise_writes_its_answer(path: Path) -> None:
    """The teacher's answer (a filter, a name, a list) never appears as a literal in a code
    cell before its exercise."""
    all_cells = cells(path)
    for i, id, _ in _exercise_cells(path):
        function = solutions.SOLUTIONS.get(id)
        if function is None or solutions.inspect_parameters(function):
            continue
        answers = [a for a in function() if isinstance(a, str) and len(a) >= 6]
        answers += [" ".join(a) for a in function() if isinstance(a, list)]
        before = "\n".join(source(c) for c in all_cells[:i] if c["cell_type"] == "code")
        for answer in answers:
            for literal in (f'"{answer}"', f"'{answer}'"):
                assert literal not in before, f"{path.name}: a cell above {id} holds its answer"


@on_runs
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_after_run_all_no_exercise_is_answered(path: Path, runs: dict[str, Run]) -> None:
    """Run All leaves every answer cell unanswered: no ✓ (a ✓ would mean the notebook
    answers itself), a visible 'your turn' or hint instead."""
    run = runs[path.stem]
    assert run.nb is not None
    for i, id, _ in _exercise_cells(path):
        shown = " ".join(o.get("data", {}).get("text/html", "") + o.get("data", {}).get(
            "text/plain", "") for o in run.nb.cells[i].get("outputs", []))
        assert "✓" not in shown, f"{path.name} cell {i}: exercise {id} is answered by Run All"
        assert "Your turn" in shown or "Not yet" in shown, \
            f"{path.name} cell {i}: exercise {id} shows no verdict: {shown[:200]!r}"
