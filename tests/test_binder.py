"""Binder, checked without Docker (no Docker engine runs on these machines).

1. repo2docker's build plan for this repository (``--no-build --debug``) succeeds and does what
   binder/ asks: Python 3.12, slapd, ldap-utils, nc and dig from apt.txt, ldapnb from
   requirements.txt, postBuild and start.
2. A fresh virtual environment built ONLY from binder/ (requirements.txt, postBuild) runs every
   lesson headless, with the Debian packages apt.txt names installed on this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def test_binder_files_are_well_formed() -> None:
    post = (BINDER / "postBuild").read_text()
    assert post.startswith("#!/bin/bash") and "\nset -e\n" in post
    start = (BINDER / "start").read_text()
    assert start.strip().splitlines()[-1] == 'exec "$@"'
    assert os.access(BINDER / "postBuild", os.X_OK) and os.access(BINDER / "start", os.X_OK)
    assert "-e .[notebook]" in (BINDER / "requirements.txt").read_text()
    assert set((BINDER / "apt.txt").read_text().split()) >= {"slapd", "ldap-utils",
                                                              "netcat-openbsd", "bind9-dnsutils"}


def test_repo2docker_build_plan() -> None:
    exe = Path(sys.executable).parent / "repo2docker"
    result = subprocess.run(
        [str(exe), "--no-build", "--debug", "--no-run", "--user-id", "1000",
         "--user-name", "jovyan", str(ROOT)],
        capture_output=True, text=True, timeout=120)
    plan = result.stdout + result.stderr
    assert result.returncode == 0, plan[-3000:]
    assert "python=3.12" in plan
    # repo2docker installs apt.txt's packages in one apt-get call, sorted
    packages = " ".join(sorted((BINDER / "apt.txt").read_text().split()))
    assert f"apt-get install --yes --no-install-recommends {packages}" in plan
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in plan
    assert "./binder/postBuild" in plan and "binder/start" in plan
    # the whole repository is in the image before pip installs it (requirements use -e .)
    assert plan.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/") < plan.index(
        'pip install --no-cache-dir -r "binder/requirements.txt"')


def test_apt_packages_installed() -> None:
    if not shutil.which("dpkg"):
        pytest.fail("dpkg not found: the Binder check needs a Debian machine "
                    "(make test sets it up)")
    for package in (BINDER / "apt.txt").read_text().split():
        status = subprocess.run(["dpkg", "-s", package], capture_output=True, text=True)
        assert "Status: install ok installed" in status.stdout, (
            f"{package} (binder/apt.txt) is not installed; as root, make test installs it")


@pytest.mark.slow
def test_fresh_environment_from_binder_runs_every_lesson(tmp_path: Path) -> None:
    env_dir = tmp_path / "binder-env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH=f"{env_dir / 'bin'}:{env['PATH']}", NB_PYTHON_PREFIX=str(env_dir),
               PIP_DISABLE_PIP_VERSION_CHECK="1", JUPYTER_PLATFORM_DIRS="1")
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    post = subprocess.run(["bash", "binder/postBuild"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert post.returncode == 0, post.stdout[-2000:] + post.stderr[-2000:]
    overrides = env_dir / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert '"fetchNews": "false"' in overrides.read_text()
    # run copies: a lesson may write next to itself (lesson 11 writes its audit report)
    copies = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", copies)
    lessons = sorted(copies.glob("*.ipynb"))
    assert lessons
    out = tmp_path / "executed"

    def execute(lesson: Path) -> subprocess.CompletedProcess[str]:
        # the kernel on IPC sockets in a folder of its own, not on TCP ports that a process
        # beside it may take between jupyter_client's choice and the kernel's bind (see
        # tests/kernels.py); an absolute path, as the kernel's working folder differs
        sockets = Path(tempfile.mkdtemp(prefix="k-"))
        try:
            return subprocess.run(
                [str(env_dir / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                 "--ExecutePreprocessor.timeout=180", "--KernelManager.transport=ipc",
                 f"--KernelManager.ip={sockets / 'kernel'}", "--output-dir", str(out),
                 str(lesson)],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        finally:
            shutil.rmtree(sockets, ignore_errors=True)

    # three kernels at a time, as tests/test_notebooks.py runs them: lessons wait on servers
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = dict(zip(lessons, pool.map(execute, lessons), strict=True))
    failed = {p.name: r.stderr[-3000:] for p, r in runs.items() if r.returncode != 0}
    assert not failed, failed
    assert len(list(out.glob("*.ipynb"))) == len(lessons)
