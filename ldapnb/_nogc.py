"""Pausing the cyclic garbage collector around bulk building (frames, graphs)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a frame or a graph.

    Building creates millions of small lists, dicts and tuples and no reference cycles; with a
    large heap (the entries themselves), each automatic collection walks everything and was
    seen to take most of the time.  Reference counting still frees everything as usual.

    >>> import gc
    >>> with no_gc():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
