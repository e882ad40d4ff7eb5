"""What a plain ``pip install ldapnb`` gets: the wheel holds the fixtures, the schema files and
the lessons, so ``Directory.embedded()`` and ``ldapnb lab`` work outside the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # builds and installs a wheel
def test_installed_wheel_works_outside_the_repository(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = wheels.glob("ldapnb-*.whl")
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                              "--target", str(target), str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    code = """
import ldapnb, sys
from pathlib import Path
from ldapnb.cli import lessons_folder
assert Path(ldapnb.__file__).is_relative_to(sys.argv[1]), ldapnb.__file__
d = ldapnb.Directory.embedded("contoso")
assert len(d) > 400 and d.base == "DC=contoso,DC=com"
assert sorted(ldapnb.fixtures()) == ["contoso", "example", "tiny"]
lessons = lessons_folder()
assert lessons is not None and Path(str(lessons)).is_relative_to(sys.argv[1])
assert (Path(str(lessons)) / "00-welcome.ipynb").is_file()
print("ok", len(list(Path(str(lessons)).glob("*.ipynb"))))
"""
    run = subprocess.run([sys.executable, "-c", code, str(target)], cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    expected = len(list((ROOT / "notebooks").glob("*.ipynb")))
    assert run.stdout.split() == ["ok", str(expected)]
