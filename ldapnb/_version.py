"""ldapnb's version, from one source: the installed distribution's metadata (what
``pyproject.toml`` says at build time), or, in a source checkout that is not installed,
``pyproject.toml`` itself.  Modules that need it import it from here, never from the package
``__init__`` (which imports nearly everything: that made an import cycle).

>>> import re
>>> bool(re.fullmatch(r"[0-9]+(\\.[0-9]+)*.*", __version__))
True
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

__all__ = ["__version__"]


def _version() -> str:
    try:
        return metadata.version("ldapnb")
    except metadata.PackageNotFoundError:  # a source checkout, not installed
        import tomllib

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


__version__ = _version()
