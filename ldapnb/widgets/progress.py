"""Progress bars for long loads: a notebook bar in Jupyter, a text bar elsewhere (tqdm)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..directory import Directory

__all__ = ["progress", "track", "load_ldif"]

T = TypeVar("T")


def progress(total: int | None, description: str = "Loading", *, unit: str = "entries",
             **kwargs: Any) -> Any:
    """A progress bar to use as a context manager: ``bar.update(n)`` after each step.

    In Jupyter it is an ipywidgets bar (tqdm's notebook bar); in a terminal or under
    pytest, tqdm's text bar on stderr.

    Parameters
    ----------
    total : int or None
        How many steps (None: unknown, the bar counts up).
    description : str
        The text before the bar.
    unit : str
        What is counted.
    **kwargs
        Passed to :class:`tqdm.auto.tqdm` (``disable=True`` hides it and stops counting).

    Returns
    -------
    tqdm.auto.tqdm

    Examples
    --------
    >>> import io
    >>> with progress(3, "Loading", file=io.StringIO()) as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    >>> bar.n
    3
    """
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit=f" {unit}", **kwargs)


def track(items: Iterable[T], total: int | None = None, description: str = "Loading", *,
          unit: str = "entries", **kwargs: Any) -> Iterator[T]:
    """Iterate ``items`` with a progress bar (e.g. entries streamed from a source).

    Examples
    --------
    >>> import io
    >>> sum(track(range(4), description="Counting", file=io.StringIO()))
    6
    """
    with progress(total, description, unit=unit, **kwargs) as bar:
        for item in items:
            yield item
            bar.update(1)


def load_ldif(path: str | os.PathLike[str], *, strict: bool = False, description: str = "Loading",
              **kwargs: Any) -> Directory:
    """:meth:`ldapnb.Directory.from_ldif` with a progress bar counting the records read.

    The total is the number of ``dn:`` lines, counted first (a quick scan of the file).

    Examples
    --------
    >>> import io
    >>> from ldapnb.directory import fixture_path
    >>> d = load_ldif(fixture_path("tiny"), file=io.StringIO())
    >>> len(d)
    11
    """
    from pathlib import Path

    from .. import ldif
    from ..directory import Directory
    from ..sources.embedded import EmbeddedDirectory

    with open(path, "rb") as f:
        total = sum(1 for line in f if line[:3].lower() == b"dn:")
    source = EmbeddedDirectory(None, lenient=not strict)
    source.load(track(ldif.read_records(path), total, description, unit="records", **kwargs),
                source=str(path))
    return Directory(source, name=f"LDIF {Path(path).name!r}")
