"""`make lab`, as a user types it, brings up JupyterLab on the lessons.

The Makefile is run unchanged from the repository; only Jupyter's own configuration says
"loopback, this free port, this token, no browser": a ``jupyter_server_config.json`` in a
private ``JUPYTER_CONFIG_DIR`` (with private data, runtime and workspaces folders, so the
user's ``~/.jupyter`` is neither read nor written).  The test checks ``/api/status`` and
that the welcome lesson is listed by ``/api/contents``, then stops the whole process group.

``make lab`` first brings the virtual environment up to date (``pip install -e .[notebook]``,
the student's set, when pyproject.toml changed), so the wait for JupyterLab is generous.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import uuid
from pathlib import Path
from typing import Any

import pytest
from lab_harness import (
    free_port,
    get_json,
    lab_environment,
    stop_process_group,
    wait_for_status,
)

REPO = Path(__file__).resolve().parents[2]
WELCOME = "00-welcome.ipynb"
#: `make lab` may first run `pip install -e .[notebook]` (a changed pyproject.toml).
READY_TIMEOUT = 300.0


def listed_notebooks(url: str, token: str, path: str = "", depth: int = 1) -> dict[str, str]:
    """Notebook name -> path under the served root, from /api/contents (``depth`` folders
    down: ``make lab`` may serve the lessons or a folder holding them)."""
    answer: Any = get_json(url, f"/api/contents/{path}?content=1", token)
    found: dict[str, str] = {}
    for item in answer["content"]:
        if item["type"] == "notebook":
            found.setdefault(item["name"], item["path"])
        elif item["type"] == "directory" and depth > 0 and not item["name"].startswith("."):
            for name, p in listed_notebooks(url, token, item["path"], depth - 1).items():
                found.setdefault(name, p)
    return found


def test_make_lab_installs_the_student_set_not_the_dev_set() -> None:
    """The `lab` target installs the `notebook` extra; the dev tools stay out of it."""
    make = shutil.which("make")
    assert make is not None, "`make` is not installed (apt-get install make)"
    plan = subprocess.run([make, "-n", "-B", "lab"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line and "-e" in line]
    assert installs and all('".[notebook]"' in line for line in installs), plan
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    student = " ".join(extras["notebook"]).lower()
    for tool in ("playwright", "repo2docker", "mypy", "pytest", "ruff"):
        assert tool not in student, f"{tool} is in the student's `notebook` extra"


@pytest.mark.slow  # `make lab` installs the notebook extra, then starts JupyterLab
def test_make_lab_serves_the_lessons(tmp_path: Path) -> None:
    make = shutil.which("make")
    assert make is not None, "`make` is not installed (apt-get install make)"
    port, token = free_port(), uuid.uuid4().hex
    env = lab_environment(tmp_path / "jupyter")
    config = {"ServerApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0,
                            "token": token, "open_browser": False}}
    Path(env["JUPYTER_CONFIG_DIR"], "jupyter_server_config.json").write_text(
        json.dumps(config), encoding="utf-8")
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # not a sub-make of `make test`
        env.pop(name, None)
    log = tmp_path / "make-lab.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen([make, "lab"], cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        status = wait_for_status(url, token, timeout=READY_TIMEOUT, process=process, log=log)
        ready = time.monotonic() - started
        assert "started" in status, status
        notebooks = listed_notebooks(url, token)
        assert WELCOME in notebooks, (
            f"`make lab` serves {sorted(notebooks)}, not the welcome lesson {WELCOME}")
        model = get_json(url, f"/api/contents/{notebooks[WELCOME]}?content=0", token)
        assert model["type"] == "notebook"
        lessons = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
        assert set(lessons) <= set(notebooks), (
            f"lessons missing from `make lab`: {sorted(set(lessons) - set(notebooks))}")
        with pytest.raises(urllib.error.HTTPError) as refused:  # the token is required
            get_json(url, "/api/contents", "wrong-token")
        assert refused.value.code == 403
    finally:
        code = stop_process_group(process)
    assert code is not None, "`make lab` did not stop"
    with pytest.raises(OSError):  # nothing answers on the port any more
        get_json(url, "/api/status", token, timeout=2)
    print(f"make lab: JupyterLab answered after {ready:.1f} s")
