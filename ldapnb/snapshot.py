"""Snapshots: a directory's entries saved to one file (LDIF or Parquet) and read back.

An auditor takes a snapshot of a live directory once and works offline afterwards::

    from ldapnb import snapshot
    snapshot.write(d, "contoso.parquet")                 # or "contoso.ldif"
    for entry in snapshot.read("contoso.parquet"): ...
    snapshot.metadata("contoso.parquet")                 # where, when, what filter, secrets?

The format follows the file's extension: ``.ldif`` or ``.parquet`` (``.pq``).

Atomic
    Entries are written to a hidden temporary file beside the final one, flushed to disk and
    renamed over the final name at the very end.  An interrupted snapshot (an error, Ctrl-C)
    removes its temporary file and leaves nothing under the final name: a file under that
    name is always a complete snapshot.

Secrets
    Password attributes (``userPassword``, ``unicodePwd`` ... see :func:`ldapnb.entry.is_secret`)
    are left out unless ``include_secrets=True``; the metadata says which were left out.  A
    snapshot with secrets is created readable by its owner only (mode 0600).

Parquet layout
    One row per entry: a ``dn`` column, then one column per attribute description (``cn`` and
    ``cn;lang-en`` are separate columns) holding the entry's values as a list, or null when
    the entry lacks the attribute.  A column is ``list<string>`` when every value was text and
    ``list<binary>`` when every value was bytes (``objectSid``, ``objectGUID``, ``jpegPhoto``).
    In the rare column that mixes both, values are stored as ``list<binary>`` and a companion
    column ``__text__<attribute>`` (``list<bool>``) marks the values that were text, so every
    value comes back exactly as it was given.  The file's key-value metadata ``ldapnb`` holds
    JSON: source, time, ldapnb version, base, filter, attributes, entry count, secrets.
    DuckDB (``SELECT dn, cn FROM 'snap.parquet'``), pandas, pyarrow, Spark and Dask read the
    file as it is.  Entries are buffered in batches spilled to disk, so memory stays bounded.

LDIF layout
    RFC 2849 content records (no ``version:`` line, so OpenLDAP's ``slapadd`` accepts the file
    as it is), a first comment line ``# ldapnb-snapshot: {json}`` with the same metadata and
    a last comment line ``# ldapnb-snapshot-end: {json}`` naming the attributes whose values
    were all bytes (LDIF has no type marker: they are read back as bytes).  In an attribute
    mixing text and bytes, bytes that happen to be valid UTF-8 come back as text; use
    Parquet when that matters.

Examples
--------
>>> import tempfile, os
>>> from ldapnb import Directory
>>> d = Directory.embedded("tiny")
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = os.path.join(tmp, "tiny.parquet")
...     info = write(d, path, progress=False)
...     back = list(read(path))
...     info["entries"] == len(back) == len(d), metadata(path)["secrets"]["included"]
(True, False)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .entry import Entry, is_secret
from .errors import ArgumentError, LdapnbError, SourceNotFound

if TYPE_CHECKING:
    import pyarrow as pa

    from .directory import Directory

__all__ = ["write", "read", "metadata", "snapshot_format", "FORMAT_VERSION"]

#: Version of the snapshot layout written in the metadata (bumped on incompatible changes).
FORMAT_VERSION = 1

_BATCH = 5000  # entries per Parquet record batch (and per spilled file)
_TEXT_PREFIX = "__text__"
_META_KEY = b"ldapnb"
_LDIF_HEAD = "# ldapnb-snapshot: "
_LDIF_TAIL = "# ldapnb-snapshot-end: "
_ALL = "(objectClass=*)"


def snapshot_format(path: str | os.PathLike[str]) -> str:
    """``"ldif"`` or ``"parquet"``, from the file's extension.

    Raises
    ------
    LdapnbError
        Any other extension.

    Examples
    --------
    >>> snapshot_format("audit/contoso.PARQUET"), snapshot_format("x.ldif")
    ('parquet', 'ldif')
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".ldif":
        return "ldif"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise LdapnbError(f"cannot tell the snapshot format of {str(path)!r}: name the file "
                      "*.ldif or *.parquet")


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------


def write(
    directory_or_entries: Directory | Iterable[Entry],
    path: str | os.PathLike[str],
    *,
    filter: str = _ALL,
    base: str | None = None,
    attributes: Sequence[str] | None = None,
    include_secrets: bool = False,
    progress: bool = True,
    source: str | None = None,
) -> dict[str, Any]:
    """Write a snapshot of a directory (or of any entries) to ``path``, atomically.

    Parameters
    ----------
    directory_or_entries : Directory or iterable of Entry
        A :class:`~ldapnb.Directory` (searched with ``filter``, ``base`` and ``attributes``)
        or entries to write as they are (then ``filter``, ``base`` and ``attributes`` must
        be left at their defaults).
    path : str or os.PathLike
        ``*.ldif`` or ``*.parquet``; its folder must exist.  An existing file is replaced
        only once the new snapshot is complete.
    filter, base, attributes
        What to take from the directory (as in :meth:`Directory.entries`).
    include_secrets : bool
        Keep password attributes (``userPassword``, ``unicodePwd`` ...).  By default they are
        dropped and the metadata lists them.
    progress : bool
        Show a progress bar (tqdm; a widget in a notebook) on standard error.
    source : str, optional
        What the metadata names as the source (default: the directory's name).

    Returns
    -------
    dict
        The snapshot's metadata, with ``path`` and ``entries`` (how many were written).

    Raises
    ------
    LdapnbError
        An unknown extension, or entries that cannot be written; the errors of
        :meth:`Directory.entries` (``FilterError``, ``NoSuchEntry``, ``DirectoryUnavailable``
        ...) pass through.  In every case no file is left under ``path``'s name.
    ValueError
        ``filter``, ``base`` or ``attributes`` given with plain entries.

    Examples
    --------
    >>> import tempfile, os
    >>> from ldapnb import Directory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     info = write(Directory.embedded("tiny"), os.path.join(tmp, "t.ldif"),
    ...                  filter="(objectClass=person)", progress=False)
    >>> info["format"], info["filter"], info["entries"] > 0
    ('ldif', '(objectClass=person)', True)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentError("path", "a str or os.PathLike ending in .ldif or .parquet", path,
                            show=False)
    final = Path(path)
    fmt = snapshot_format(final)
    if not final.parent.is_dir():
        raise LdapnbError(f"no folder {str(final.parent)!r} to write the snapshot "
                          f"{final.name!r} into")
    entries, meta = _select(directory_or_entries, filter, base, attributes, source)
    meta.update(format=fmt, created=datetime.now(UTC).isoformat(timespec="seconds"))
    dropped: set[str] = set()
    counted = _Counter()
    stream: Iterable[Entry] = counted.wrap(
        _without_secrets(entries, dropped) if not include_secrets else entries)
    stream = _progress(stream, progress, final.name, directory_or_entries, filter, base)

    fd, temp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.",
                                     suffix=".part")
    temp = Path(temp_name)
    spill: Path | None = None
    try:
        if fmt == "ldif":
            with open(fd, "w", encoding="utf-8", newline="\n", closefd=True) as out:
                _write_ldif(stream, out, meta, dropped, include_secrets, counted)
                out.flush()
                os.fsync(out.fileno())
        else:
            os.close(fd)
            spill = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.spill-"))
            _write_parquet(stream, temp, spill, meta, dropped, include_secrets, counted)
        if not include_secrets:
            os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)
    meta.update(_secrets_meta(include_secrets, dropped), entries=counted.entries, path=str(final))
    return meta


def _select(
    what: Any, filter: str, base: str | None, attributes: Sequence[str] | None,
    source: str | None,
) -> tuple[Iterable[Entry], dict[str, Any]]:
    from ._version import __version__

    meta: dict[str, Any] = {"ldapnb_snapshot": FORMAT_VERSION, "ldapnb_version": __version__}
    if hasattr(what, "entries") and callable(what.entries):
        entries = what.entries(filter, base=base, attributes=attributes)
        meta.update(source=source or str(getattr(what, "name", type(what).__name__)),
                    base=getattr(what, "base", "") if base is None else base,
                    filter=filter, attributes=list(attributes) if attributes else None)
        return entries, meta
    if filter != _ALL or base is not None or attributes is not None:
        raise ValueError("filter, base and attributes select from a Directory; plain entries "
                         "are written as they are")
    meta.update(source=source or "entries", base=None, filter=None, attributes=None)
    return what, meta


class _Counter:
    """Counts entries and notes which attributes held text and which bytes."""

    def __init__(self) -> None:
        self.entries = 0
        self.text: set[str] = set()
        self.binary: set[str] = set()

    def wrap(self, entries: Iterable[Entry]) -> Iterator[Entry]:
        for entry in entries:
            self.entries += 1
            yield entry

    def note(self, entry: Entry) -> None:
        for name, values in entry.items():
            key = name.lower()
            for v in values:
                (self.binary if isinstance(v, bytes) else self.text).add(key)


def _without_secrets(entries: Iterable[Entry], dropped: set[str]) -> Iterator[Entry]:
    for entry in entries:
        secret = [name for name in entry if is_secret(name)]
        if secret:
            entry = entry.copy()
            for name in secret:
                dropped.add(name)
                entry.remove(name)
        yield entry


def _progress(entries: Iterable[Entry], show: bool, label: str, what: Any, filter: str,
              base: str | None) -> Iterable[Entry]:
    if not show:
        return entries
    from tqdm.auto import tqdm

    total = None
    if isinstance(what, Sequence):
        total = len(what)
    elif hasattr(what, "entries") and filter == _ALL and base is None:
        with contextlib.suppress(TypeError):
            total = len(what)  # the whole directory: the count is known
    return tqdm(entries, total=total, unit=" entries", desc=f"snapshot {label}",
                file=sys.stderr, dynamic_ncols=True)


def _secrets_meta(include: bool, dropped: set[str]) -> dict[str, Any]:
    return {"secrets": {"included": include,
                        "dropped": sorted(dropped, key=str.lower)}}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_ldif(entries: Iterable[Entry], out: Any, meta: dict[str, Any], dropped: set[str],
                include_secrets: bool, counted: _Counter) -> None:
    from . import ldif

    def noted(items: Iterable[Entry]) -> Iterator[Entry]:
        for entry in items:
            counted.note(entry)
            yield entry

    out.write(_LDIF_HEAD + json.dumps(meta, sort_keys=True) + "\n\n")
    ldif.write(noted(entries), out, version=False)
    binary = sorted(counted.binary - counted.text)
    tail = {"entries": counted.entries, "binary": binary,
            **_secrets_meta(include_secrets, dropped)}
    out.write("\n" + _LDIF_TAIL + json.dumps(tail, sort_keys=True) + "\n")


# -- Parquet -------------------------------------------------------------------------------


class _Columns:
    """Attribute columns seen so far: first spelling, and whether text/bytes/both."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # lower -> first spelling, in first-seen order
        self.kinds: dict[str, set[str]] = {}  # lower -> {"text", "bytes"}


def _batch_table(batch: list[Entry], columns: _Columns) -> pa.Table:
    """One batch of entries as a table: dn, one list column per attribute, text masks."""
    import pyarrow as pa

    keys: dict[str, None] = {}
    for entry in batch:
        for name in entry:
            low = name.lower()
            keys.setdefault(low, None)
            columns.names.setdefault(low, name)
    arrays: dict[str, pa.Array] = {"dn": pa.array([e.dn for e in batch], pa.string())}
    for low in keys:
        rows = [entry.get(low) for entry in batch]
        has_text = has_bytes = False
        for values in rows:
            if values:
                for v in values:
                    if isinstance(v, bytes):
                        has_bytes = True
                    else:
                        has_text = True
        kinds = columns.kinds.setdefault(low, set())
        if has_text:
            kinds.add("text")
        if has_bytes:
            kinds.add("bytes")
        name = columns.names[low]
        if has_bytes and has_text:
            arrays[name] = pa.array(
                [None if vs is None else [v if isinstance(v, bytes) else v.encode("utf-8")
                                          for v in vs] for vs in rows],
                pa.list_(pa.binary()))
            arrays[_TEXT_PREFIX + name] = pa.array(
                [None if vs is None else [isinstance(v, str) for v in vs] for vs in rows],
                pa.list_(pa.bool_()))
        else:
            arrays[name] = pa.array(rows, pa.list_(pa.binary() if has_bytes else pa.string()))
    return pa.table(arrays)


def _write_parquet(entries: Iterable[Entry], temp: Path, spill: Path, meta: dict[str, Any],
                   dropped: set[str], include_secrets: bool, counted: _Counter) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = _Columns()
    files: list[Path] = []
    batch: list[Entry] = []

    def flush() -> None:
        table = _batch_table(batch, columns)
        spilled = spill / f"{len(files):06d}.arrow"
        with pa.OSFile(str(spilled), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        files.append(spilled)
        batch.clear()

    for entry in entries:
        batch.append(entry)
        if len(batch) >= _BATCH:
            flush()
    if batch or not files:
        flush()

    # The final schema: text-only columns are strings, the rest binary (+ a mask if mixed).
    fields = [pa.field("dn", pa.string(), nullable=False)]
    mixed: list[str] = []
    kinds: dict[str, str] = {}
    for low, name in columns.names.items():
        seen = columns.kinds.get(low, set())
        kind = ("mixed" if len(seen) == 2 else "bytes" if "bytes" in seen else "text")
        kinds[name] = kind
        fields.append(pa.field(name, pa.list_(pa.string() if kind == "text" else pa.binary())))
        if kind == "mixed":
            mixed.append(name)
    fields += [pa.field(_TEXT_PREFIX + name, pa.list_(pa.bool_())) for name in mixed]
    meta = dict(meta, entries=counted.entries, columns=kinds,
                **_secrets_meta(include_secrets, dropped))
    schema = pa.schema(fields, metadata={_META_KEY: json.dumps(meta, sort_keys=True).encode()})
    with pq.ParquetWriter(str(temp), schema, compression="zstd") as writer:
        for spilled in files:
            with pa.memory_map(str(spilled)) as source:
                table = pa.ipc.open_file(source).read_all()
            writer.write_table(_conform(table, schema, kinds))
            del table
        # ParquetWriter closes the file; fsync it before the rename
    with open(temp, "rb") as done:
        os.fsync(done.fileno())


def _conform(table: pa.Table, schema: pa.Schema, kinds: dict[str, str]) -> pa.Table:
    """A spilled batch with every column of the final schema, in order, typed as there."""
    import pyarrow as pa

    have = set(table.column_names)
    out = []
    for field in schema:
        name = field.name
        if name in have:
            column = table.column(name).combine_chunks()
            out.append(column if column.type == field.type else column.cast(field.type))
        elif name.startswith(_TEXT_PREFIX) and name[len(_TEXT_PREFIX):] in have:
            values = table.column(name[len(_TEXT_PREFIX):]).combine_chunks()
            is_text = pa.types.is_string(values.type.value_type)
            out.append(pa.ListArray.from_arrays(
                values.offsets, pa.array([is_text] * len(values.flatten()), pa.bool_()),
                mask=values.is_null()))
        else:
            out.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(out, schema=schema)


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------


def metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a snapshot says about itself: source, created, base, filter, secrets, entries.

    For a file not written by ldapnb (a plain LDIF export, another tool's Parquet) the
    dictionary holds only ``format``.

    Raises
    ------
    LdapnbError
        The file is missing, or is not LDIF or Parquet.

    Examples
    --------
    >>> import tempfile, os
    >>> from ldapnb import Directory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write(Directory.embedded("tiny"), os.path.join(tmp, "t.ldif"), progress=False)
    ...     meta = metadata(os.path.join(tmp, "t.ldif"))
    >>> meta["source"], meta["secrets"]["dropped"]
    ("embedded 'tiny'", ['userPassword'])
    """
    target = _existing(path)
    fmt = snapshot_format(target)
    if fmt == "parquet":
        return dict(_parquet_meta(target), format="parquet")
    head, tail = _ldif_meta(target)
    meta = dict(head)
    meta.update(tail)
    meta["format"] = "ldif"
    return meta


def read(path: str | os.PathLike[str]) -> Iterator[Entry]:
    """The entries of a snapshot (LDIF or Parquet), streamed in the order written.

    Text values come back as ``str`` and binary ones as ``bytes``, as they were written.

    Raises
    ------
    LdapnbError
        A missing file, an unknown extension, a damaged Parquet file (``LdifError`` with the
        line for bad LDIF).

    Examples
    --------
    >>> import tempfile, os
    >>> from ldapnb import Directory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write(Directory.embedded("contoso"), os.path.join(tmp, "c.parquet"),
    ...               progress=False)
    ...     domain = next(read(os.path.join(tmp, "c.parquet")))
    >>> type(domain["objectSid"][0])
    <class 'bytes'>
    """
    target = _existing(path)
    if snapshot_format(target) == "parquet":
        return _read_parquet(target)
    return _read_ldif(target)


def _existing(path: str | os.PathLike[str]) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentError("path", "a str or os.PathLike", path, show=False)
    target = Path(path)
    if not target.exists():
        raise SourceNotFound(target, "snapshot file")
    if not target.is_file():
        raise LdapnbError(f"{str(target)!r} is not a snapshot file (a folder?)")
    return target


def _read_ldif(path: Path) -> Iterator[Entry]:
    from . import ldif

    _, tail = _ldif_meta(path)
    binary = {name.lower() for name in tail.get("binary", ())}
    for entry in ldif.read_entries(path):
        if binary:
            for name in [n for n in entry if n.lower() in binary]:
                entry.set(name, [v.encode("utf-8") if isinstance(v, str) else v
                                 for v in entry[name]])
        yield entry


def _ldif_meta(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON of the first (header) and last (trailer) comment lines, if ldapnb wrote them."""
    head: dict[str, Any] = {}
    tail: dict[str, Any] = {}
    with open(path, "rb") as f:
        first = f.readline(1 << 16).decode("utf-8", "replace")
        if first.startswith(_LDIF_HEAD):
            head = _json(first[len(_LDIF_HEAD):], path)
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - (1 << 16)))
        last = f.read().decode("utf-8", "replace").rstrip("\n").rsplit("\n", 1)[-1]
        if last.startswith(_LDIF_TAIL):
            tail = _json(last[len(_LDIF_TAIL):], path)
    return head, tail


def _json(text: str, path: Path) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise LdapnbError(f"{path}: damaged ldapnb snapshot comment ({exc})") from exc
    return value if isinstance(value, dict) else {}


def _parquet_file(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(str(path))
    except (pa.ArrowException, OSError) as exc:
        raise LdapnbError(f"{path} is not a readable Parquet file: {exc}") from exc


def _parquet_meta(path: Path) -> dict[str, Any]:
    raw = (_parquet_file(path).schema_arrow.metadata or {}).get(_META_KEY)
    return _json(raw.decode("utf-8"), path) if raw else {}


def _read_parquet(path: Path) -> Iterator[Entry]:
    import pyarrow as pa

    pf = _parquet_file(path)
    schema = pf.schema_arrow
    if "dn" not in schema.names:
        raise LdapnbError(f"{path} has no 'dn' column: not an ldapnb snapshot")
    attrs = [n for n in schema.names if n != "dn" and not n.startswith(_TEXT_PREFIX)]
    masks = {n[len(_TEXT_PREFIX):] for n in schema.names if n.startswith(_TEXT_PREFIX)}
    try:
        for batch in pf.iter_batches(batch_size=_BATCH):
            dns = batch.column("dn").to_pylist()
            columns = []
            for name in attrs:
                values = batch.column(name).to_pylist()
                if name in masks:
                    flags = batch.column(_TEXT_PREFIX + name).to_pylist()
                    values = [None if vs is None else
                              [v.decode("utf-8") if t else v for v, t in zip(vs, fl, strict=True)]
                              for vs, fl in zip(values, flags, strict=True)]
                columns.append((name, values))
            for i, dn in enumerate(dns):
                entry = Entry(dn)
                for name, values in columns:
                    row = values[i]
                    if row is not None:
                        entry.add(name, row)
                yield entry
    except pa.ArrowException as exc:
        raise LdapnbError(f"{path}: damaged Parquet snapshot: {exc}") from exc
