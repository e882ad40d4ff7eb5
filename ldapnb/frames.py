"""Entries -> typed pandas DataFrames, built column-wise.

One row per entry, ``dn`` first, then one column per attribute description (``cn`` and
``cn;lang-fr`` are separate columns).  Each column is typed once, in bulk:

==========================  ==========================  ====================================
attribute (schema syntax)   single-valued column        multi-valued column (cells are lists)
==========================  ==========================  ====================================
INTEGER (…121.1.27)         ``Int64`` (nullable)         ``object``: lists of Python ``int``
BOOLEAN (…121.1.7)          ``boolean`` (nullable)       ``object``: lists of ``bool``
GeneralizedTime (…1.24)     ``datetime64[us, UTC]``      ``object``: lists of UTC Timestamps
AD FILETIME (pwdLastSet …)  ``datetime64[us, UTC]``      (single-valued in AD)
binary (``is_binary``)      ``object``: ``bytes``        ``list<binary>[pyarrow]``
anything else               ``string[pyarrow]``          ``list<string>[pyarrow]``
secret (``userPassword``)   ``"********"``               ``["********"]`` (one mask, whatever
                                                         the number of values)
==========================  ==========================  ====================================

Multi-valued text and binary columns stay in Arrow (``pandas.ArrowDtype`` list types): a
cell still reads as a Python ``list`` (``df.at[0, "cn"] == ["a", "b"]``), iteration,
``.map(len)``, ``.explode()`` and ``.to_parquet()`` work, and ``df[col].list`` offers
vectorised list operations; they take 3-4x less memory than lists of Python strings and are
built in one C pass.  Integers (which may exceed int64), booleans and times hold Python lists.

Rules worth knowing:

* **Missing values.**  A missing single-valued attribute is ``<NA>`` (``NaT`` for times,
  ``None`` in ``object`` columns).  A missing *multi-valued* attribute is an **empty list**,
  so ``df["member"].map(len)`` and ``df.explode("member")`` work without special cases.
* **Single or multi.**  With a schema, SINGLE-VALUE attributes are scalar columns and the others
  hold lists.  An entry that breaks SINGLE-VALUE turns the column into lists (never a value
  dropped) and adds a warning.  Without a schema, or for an attribute the schema does not know,
  a column is scalar when no entry has two values.
* **Typing without a schema** (or for unknown attributes) is by inspection: every value an
  integer written canonically (``-?(0|[1-9][0-9]*)``, so ``"01234"`` stays text) -> integers;
  every value ``TRUE``/``FALSE`` -> booleans; every value a GeneralizedTime -> times; a value
  that is not UTF-8, a ``;binary`` option or a well-known binary attribute (``objectSid``,
  ``jpegPhoto`` ...) -> bytes; otherwise text.
* **Values that do not fit their syntax are never dropped.**  If the schema says INTEGER,
  BOOLEAN or GeneralizedTime and one value is not one, the whole column is kept as text (as
  the server sent it) and ``df.attrs["warnings"]`` says which column, how many values, and the
  first bad value with its DN.  A text column holding a value that is not UTF-8 becomes a
  bytes column, with a warning.  Nothing is raised: an audit of a messy directory must still
  produce its frame.
* **GeneralizedTime** (RFC 4517 3.3.13): ``YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±hh[mm])``; a
  fraction applies to the last unit given (hour, minute or second) and is kept to the
  microsecond (truncated); an offset is converted to UTC; a leap second ``60`` counts as the
  next minute's second 0.  Microsecond resolution keeps years 0001-9999 representable
  (``99991231235959Z`` is a common "never").
* **AD FILETIME** attributes (``lastLogonTimestamp``, ``lastLogon``, ``lastLogoff``,
  ``pwdLastSet``, ``accountExpires``, ``lockoutTime``, ``badPasswordTime``: Integer8 ticks of
  100 ns since 1601-01-01 UTC) are UTC datetimes; ``0`` and ``0x7FFFFFFFFFFFFFFF`` ("never",
  "not set") are ``NaT``.  So ``pwdLastSet`` NaT on a user means 0: the password must be
  changed at the next logon.  Their ``kind`` is ``"time"``, ``typed_by`` ``"AD FILETIME"``;
  a value that is not a non-negative integer keeps the column as integers or text.
* Values may be ``bytes`` (from the wire) or ``str`` (from LDIF): both give the same frame.
* ``df.attrs["ldapnb"]["attributes"]`` describes every column (``kind``, ``syntax``,
  ``single``, ``typed_by``, ``masked``) so views know the types; ``df.attrs["warnings"]`` is a
  list of strings (empty when all went well).

Speed: :func:`to_frame` makes one pass over the entries collecting per-column value lists and
hands them to :func:`frame_from_columns`, which converts each column with one bulk call
(pyarrow for text, integers, booleans and the common time form; Python only for what is
left).  The cyclic garbage collector is paused while a frame is built (no cycles are made;
its full-heap passes were most of the time).  ``Directory.search`` reads every source the same
way: the source yields column pages (:class:`ldapnb.sources.base.Page`, straight from the wire
for a server) and :func:`frame_from_pages` gathers them (:func:`columns_from_pages`, the one
page-gathering function) and types them with :func:`frame_from_columns`.

A one-row search (an indexed equality) is all fixed cost, so that cost is kept small on the
same path: what a column's name and the schema decide (syntax, SINGLE-VALUE, secret, binary,
FILETIME) is worked out once per schema and name (``_rule``); a page's ``list<binary>`` array
is viewed as ``list<string>`` after a UTF-8 check instead of being converted; a column the
schema says is multi-valued text skips the length pass; compute options are made once; and
the frame is assembled from its typed arrays without pandas inspecting them again.
``tests/test_frames_fastpath.py`` holds these to the general way, and to a record of the
frames made before them.

Examples
--------
>>> from ldapnb.entry import Entry
>>> from ldapnb.schema import default_schema
>>> df = to_frame([Entry("uid=a,dc=x", {"uid": ["a"], "uidNumber": [b"1001"],
...                                     "userPassword": ["secret"]})],
...               schema=default_schema())
>>> list(df.columns)
['dn', 'uid', 'uidNumber', 'userPassword']
>>> df["uidNumber"].dtype, int(df.loc[0, "uidNumber"])
(Int64Dtype(), 1001)
>>> df.loc[0, "uid"], df.loc[0, "userPassword"]
(['a'], ['********'])
>>> str(df["uid"].dtype)
'list<item: string>[pyarrow]'
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import oids
from ._nogc import no_gc as _no_gc
from .entry import MASK, Entry, is_secret
from .errors import ArgumentError, LdapnbError
from .schema import BINARY_ATTRIBUTES, SYNTAX, Schema

if TYPE_CHECKING:
    from .sources.base import Page

try:  # pandas >= 3: a frame from typed arrays without re-inspecting them
    from pandas.api.internals import create_dataframe_from_blocks as _from_blocks
except ImportError:  # pragma: no cover - pandas < 3
    _from_blocks = None

__all__ = ["to_frame", "frame_from_pages", "columns_from_pages", "frame_from_columns",
           "parse_generalized_time"]

#: Syntaxes typed as integers (RFC 4517 INTEGER, and AD's LargeInteger).
INTEGER_SYNTAXES = frozenset({SYNTAX["integer"], oids.AD_LARGE_INTEGER})
BOOLEAN_SYNTAX = SYNTAX["boolean"]
TIME_SYNTAX = SYNTAX["generalizedtime"]

_STRING = pd.StringDtype("pyarrow")

#: Active Directory's FILETIME attributes (100 ns ticks since 1601-01-01 UTC, Integer8): typed
#: as UTC datetimes, with 0 and 0x7FFFFFFFFFFFFFFF ("never", "not set") as NaT.
FILETIME_ATTRIBUTES = frozenset({"lastlogontimestamp", "lastlogon", "lastlogoff", "pwdlastset",
                                 "accountexpires", "lockouttime", "badpasswordtime"})
_FILETIME_NEVER = 0x7FFFFFFFFFFFFFFF
_FILETIME_EPOCH_US = 11_644_473_600_000_000        # 1601-01-01 -> 1970-01-01, microseconds
_FILETIME_MAX = (253402300800 * 1_000_000 + _FILETIME_EPOCH_US) * 10  # 10000-01-01

_INT_SCHEMA_RE = r"^-?[0-9]+$"                 # what the schema's INTEGER accepts
_INT_CANONICAL_RE = r"^-?(?:0|[1-9][0-9]*)$"  # what inspection takes for an integer
_TIME_FAST_RE = r"^[0-9]{10}[0-5][0-9][0-5][0-9]Z$"  # the common form, parsed by pyarrow
_TIME_RE = re.compile(
    r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})"  # century+year, month, day, hour
    r"(?:([0-9]{2})([0-9]{2})?)?"                # [minute [second]]
    r"(?:[.,]([0-9]+))?"                         # [fraction]
    r"(?:(Z)|([+-])([0-9]{2})([0-9]{2})?)"       # Z | +hh[mm] | -hh[mm]
)
_EPOCH = _dt.datetime(1970, 1, 1)
_US = _dt.timedelta(microseconds=1)
_TRUE_FALSE = pa.array(["TRUE", "FALSE"])
_LIST_STR = pa.list_(pa.string())
_LIST_BIN = pa.list_(pa.binary())


def parse_generalized_time(value: str | bytes) -> int | None:
    """Microseconds since 1970-01-01T00:00:00Z for an RFC 4517 GeneralizedTime, or None.

    Parameters
    ----------
    value : str or bytes
        ``YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±hh[mm])``.

    Returns
    -------
    int or None
        None when ``value`` is not a valid GeneralizedTime (bad form, month 13, no zone ...).

    Examples
    --------
    >>> parse_generalized_time("19700101000001Z")
    1000000
    >>> parse_generalized_time("197001010100+0100")   # 01:00 at +01:00 is midnight UTC
    0
    >>> parse_generalized_time("1970010100.5Z")        # half an hour
    1800000000
    >>> parse_generalized_time("20241301000000Z") is None
    True
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    m = _TIME_RE.fullmatch(value)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, z, sign, off_h, off_m = m.groups()
    sec = int(second) if second else 0
    leap = sec == 60
    try:
        moment = _dt.datetime(int(year), int(month), int(day), int(hour),
                              int(minute) if minute else 0, 59 if leap else sec)
    except ValueError:
        return None
    micros = (moment - _EPOCH) // _US + (1_000_000 if leap else 0)
    if fraction:
        unit = 1_000_000 if second else 60_000_000 if minute else 3_600_000_000
        micros += int(fraction) * unit // 10 ** len(fraction)
    if not z:
        hours, mins = int(off_h), int(off_m or 0)
        if hours > 23 or mins > 59:
            return None
        offset = (hours * 60 + mins) * 60_000_000
        micros += -offset if sign == "+" else offset
    return micros


# -- the collector ---------------------------------------------------------------------------
def to_frame(
    entries: Iterable[Entry],
    *,
    attributes: Sequence[str] | None = None,
    schema: Schema | None = None,
    show_secrets: bool = False,
) -> pd.DataFrame:
    """A DataFrame with one row per entry, ``dn`` first, typed column by column.

    Parameters
    ----------
    entries : iterable of Entry
        Read once (a generator is fine).
    attributes : sequence of str, optional
        The columns, in this order and spelling (matched case-insensitively; ``cn;lang-fr``
        is its own column; a requested attribute no entry has is still a column, all
        missing).  ``"*"`` or ``"+"`` among them adds every other attribute seen after the
        named ones.  None: every attribute seen, in order of first appearance, spelt as
        first seen.
    schema : Schema, optional
        Types columns by syntax and SINGLE-VALUE; without it columns are typed by inspection
        (see the module docstring).
    show_secrets : bool
        Show password attributes (``userPassword``, ``unicodePwd`` ...) instead of
        ``"********"``.

    Returns
    -------
    pandas.DataFrame
        ``df.attrs["ldapnb"]["attributes"]`` describes each column; ``df.attrs["warnings"]``
        lists values that did not fit their syntax (kept, as text).

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> df = to_frame([Entry("cn=a,dc=x", {"cn": ["a"], "uidNumber": ["7"]}),
    ...                Entry("cn=b,dc=x", {"CN": ["b", "bee"]})])
    >>> df.columns.tolist(), df["cn"].tolist(), df["uidNumber"].tolist()
    (['dn', 'cn', 'uidNumber'], [['a'], ['b', 'bee']], [7, <NA>])
    >>> to_frame([], attributes=["cn"]).columns.tolist()
    ['dn', 'cn']
    """
    if isinstance(entries, Entry):
        entries = [entries]
    elif isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Iterable):
        raise ArgumentError("entries", "an iterable of Entry objects", entries, show=False)
    with _no_gc():
        try:
            return _collect(entries, attributes, schema, show_secrets)
        except AttributeError as exc:  # an item without .dn/._attrs: not an Entry
            raise ArgumentError("each of entries", "an Entry", None, show=False,
                                hint=str(exc)) from exc


def _collect(entries: Iterable[Entry], attributes: Sequence[str] | None,
             schema: Schema | None, show_secrets: bool) -> pd.DataFrame:
    dns: list[str] = []
    add_dn = dns.append
    if attributes is not None and not any(a in ("*", "+") for a in attributes):
        names = _requested(attributes)
        keys = list(names)
        dense: list[list[Any]] = [[] for _ in keys]
        pairs = list(zip(keys, [c.append for c in dense], strict=True))
        for e in entries:
            add_dn(e.dn)
            got = e.attribute_lists().get
            for key, add in pairs:
                add(got(key, ()))
        requested = {names[k]: col for k, col in zip(keys, dense, strict=True)}
        return frame_from_columns(dns, requested, schema=schema, show_secrets=show_secrets)

    # every attribute seen: sparse (row numbers, value lists) per column, densified at the end
    seen: dict[str, tuple[list[int], list[Any]]] = {}
    spelling: dict[str, str] = {}
    row = 0
    for e in entries:
        add_dn(e.dn)
        for key, values in e.attribute_lists().items():
            col = seen.get(key)
            if col is None:
                col = seen[key] = ([], [])
                spelling[key] = e.name_of(key)
            col[0].append(row)
            col[1].append(values)
        row += 1
    order: dict[str, str] = {}
    if attributes is not None:  # named ones first, then the rest ("*" / "+")
        order.update(_requested([a for a in attributes if a not in ("*", "+")]))
    for key in seen:
        order.setdefault(key, spelling[key])
    columns: dict[str, list[Any]] = {}
    for key, name in order.items():
        col = seen.get(key)
        if col is None:
            columns[name] = [()] * row
        elif len(col[0]) == row:
            columns[name] = col[1]
        else:
            full: list[Any] = [()] * row
            for r, values in zip(col[0], col[1], strict=True):
                full[r] = values
            columns[name] = full
    return frame_from_columns(dns, columns, schema=schema, show_secrets=show_secrets)


def _requested(attributes: Sequence[str]) -> dict[str, str]:
    """lower-case key -> requested spelling, first spelling wins, ``dn`` left out."""
    out: dict[str, str] = {}
    for name in attributes:
        key = name.lower()
        if key != "dn":
            out.setdefault(key, name)
    return out


# -- pages -----------------------------------------------------------------------------------
def frame_from_pages(
    pages: Iterable[Page],
    *,
    attributes: Sequence[str] | None = None,
    schema: Schema | None = None,
    show_secrets: bool = False,
) -> pd.DataFrame:
    """One typed DataFrame from a source's column pages, like :func:`to_frame` on the same
    entries: the columns are named and ordered as ``attributes`` asks (see
    :func:`columns_from_pages`) and typed by :func:`frame_from_columns`.

    Examples
    --------
    >>> from ldapnb.sources.base import ColumnPage
    >>> df = frame_from_pages([ColumnPage(["cn=a"], {"cn": [[b"a"]]}),
    ...                        ColumnPage(["cn=b"], {"CN": [[b"b"]], "n": [[b"7"]]})])
    >>> df.columns.tolist(), df["n"].tolist()
    (['dn', 'cn', 'n'], [<NA>, 7])
    """
    referrals: list[str] = []

    def noting(pages: Iterable[Page]) -> Iterator[Page]:
        for page in pages:
            referrals.extend(page.referrals or ())
            yield page

    with _no_gc():  # the pages may be made as they are read (see _no_gc)
        dns, columns = columns_from_pages(noting(pages), attributes=attributes)
        df = frame_from_columns(dns, columns, schema=schema, show_secrets=show_secrets)
    # referrals (continuation references a server returned, not followed) are said once per
    # search, here, never as a warning per page
    df.attrs["referrals"] = referrals
    if referrals:
        from .errors import referral_note

        df.attrs.setdefault("warnings", []).append(referral_note(referrals))
    return df


def columns_from_pages(pages: Iterable[Page], *, attributes: Sequence[str] | None = None
                       ) -> tuple[list[str], dict[str, Any]]:
    """Gather column pages into ``(dns, columns)`` for :func:`frame_from_columns`.

    Each page's columns are turned into Arrow ``list<binary>`` arrays as the page arrives, so
    the page's Python values are freed before the next one is read: memory stays near the
    size of the values themselves.  Column names that differ only in case are merged under
    the first spelling.

    Parameters
    ----------
    pages : iterable of Page
        A source's ``search_pages`` (values ``bytes`` or ``str``).
    attributes : sequence of str, optional
        As for :func:`to_frame`: the named columns first, in this order and spelling (one
        no entry has is still a column, all missing; ``dn`` and ``1.1`` are not columns);
        ``"*"`` or ``"+"`` among them, or None, adds every other column seen, in order of
        first appearance.

    Returns
    -------
    tuple
        The DNs (list of str) and a dict of attribute description -> ``pyarrow`` array of
        ``list<binary>``, one row per DN (an empty list where the entry lacks it).

    Examples
    --------
    >>> from ldapnb.sources.base import ColumnPage
    >>> page = ColumnPage(["cn=a", "cn=b"], {"cn": [[b"a"], ()], "CN": [(), [b"b"]]})
    >>> dns, cols = columns_from_pages([page], attributes=["sn", "*"])
    >>> dns, list(cols), cols["cn"].to_pylist()
    (['cn=a', 'cn=b'], ['sn', 'cn'], [[b'a'], [b'b']])
    """
    dns: list[str] = []
    chunks: dict[str, list[tuple[int, Any]]] = {}  # lower name -> (first row, array)
    spelling: dict[str, str] = {}
    for page in pages:
        start = len(dns)
        dns.extend(page.dns)
        for name, col in page.columns.items():
            key = name.lower()
            arr = pa.array(col, type=_LIST_BIN)
            have = chunks.get(key)
            if have is None:
                spelling[key] = name
                chunks[key] = [(start, arr)]
            elif have[-1][0] == start:  # another spelling on this page: merge row by row
                old = have[-1][1].to_pylist()
                merged = [[*a, *b] for a, b in zip(old, arr.to_pylist(), strict=True)]
                have[-1] = (start, pa.array(merged, type=_LIST_BIN))
            else:
                have.append((start, arr))
    n = len(dns)
    order: dict[str, str] = {}
    if attributes is not None:
        for name in attributes:
            if name not in ("*", "+", "1.1") and name.lower() != "dn":
                order.setdefault(name.lower(), name)
    if attributes is None or any(a in ("*", "+") for a in attributes):
        for key in chunks:
            order.setdefault(key, spelling[key])
    columns: dict[str, Any] = {}
    for key, name in order.items():
        pieces = []
        row = 0
        for first, arr in chunks.get(key, ()):
            if first > row:
                pieces.append(_empty_lists(first - row))
            pieces.append(arr)
            row = first + len(arr)
        if row < n or not pieces:
            pieces.append(_empty_lists(n - row))
        columns[name] = pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)
    return dns, columns


def _empty_lists(count: int) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(np.zeros(count + 1, dtype=np.int32)),
                                    pa.array([], type=pa.binary())).cast(_LIST_BIN)


# -- the typing ------------------------------------------------------------------------------
def frame_from_columns(
    dns: list[str],
    columns: dict[str, list[Any]],
    *,
    schema: Schema | None = None,
    show_secrets: bool = False,
) -> pd.DataFrame:
    """A typed DataFrame from raw columns: the one typing code path behind :func:`to_frame`.

    Parameters
    ----------
    dns : list of str
        One DN per row.
    columns : dict
        Column name -> one value list per row (``bytes`` or ``str`` values; an empty list or
        None where the entry lacks the attribute).  Names that differ only in case are merged
        into the first spelling.
    schema : Schema, optional
        As in :func:`to_frame`.
    show_secrets : bool
        As in :func:`to_frame`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    LdapnbError
        A column whose length differs from ``len(dns)``, or a column called ``dn``.

    Examples
    --------
    >>> df = frame_from_columns(["cn=a", "cn=b"], {"n": [[b"1"], [b"-2"]]})
    >>> df["n"].tolist()
    [1, -2]
    """
    n = len(dns)
    merged: dict[str, tuple[str, list[Any]]] = {}
    for name, col in columns.items():
        if len(col) != n:
            raise LdapnbError(
                f"column {name!r} has {len(col)} rows but there are {n} DNs")
        key = name.lower()
        if key == "dn":
            raise LdapnbError("an attribute column may not be called 'dn' (the DN column)")
        if key in merged:
            first, old = merged[key]
            merged[key] = (first, [[*(a or ()), *(b or ())] for a, b in zip(old, col,
                                                                          strict=True)])
        else:
            merged[key] = (name, col)

    warnings: list[str] = []
    described: dict[str, dict[str, Any]] = {}
    with _no_gc():
        data: dict[str, Any] = {"dn": pd.array(dns, dtype=_STRING)}
        for name, col in merged.values():
            data[name], described[name] = _column(name, col, dns, schema, show_secrets,
                                                  warnings)
        df = _assemble(data, n)
    df.attrs["ldapnb"] = {"attributes": described}
    df.attrs["warnings"] = warnings
    return df


def _assemble(data: dict[str, Any], n: int) -> pd.DataFrame:
    """The frame of the typed columns ``data`` (``n`` rows): each array becomes a block as it
    is, as ``pd.DataFrame(data, copy=False)`` would make it, without inspecting the arrays
    again (that inspection was a tenth of a one-row search)."""
    if _from_blocks is None:  # pragma: no cover - pandas < 3
        df = pd.DataFrame(data, copy=False)
        if not n:
            df.index = pd.RangeIndex(0)
        return df
    blocks = []
    for i, values in enumerate(data.values()):
        if isinstance(values, pd.Series):  # an object column
            values = values.to_numpy().reshape(1, -1)
        blocks.append((values, np.array([i])))
    return _from_blocks(blocks, pd.RangeIndex(n), pd.Index(list(data)))


@dataclass(frozen=True, slots=True)
class _Rule:
    """What a column's name and the schema decide before any value is read: the one place
    that types a column by its name (values then confirm or refuse the kind, see
    :func:`_column`).  Cached per schema and name by :func:`_rule`."""

    syntax: str | None
    typed_by: str           # "schema" (the schema knows the attribute) or "inspection"
    single: bool | None     # the schema's SINGLE-VALUE; None: decided by the values
    kind: str | None        # integer, boolean, time or text by syntax; None: by inspection
    secret: bool            # a password attribute (masked unless show_secrets)
    binary: bool            # bytes by syntax, ``;binary`` or a well-known binary name
    filetime: bool          # an AD FILETIME attribute
    int_pattern: str        # what an integer of this column must match


@functools.lru_cache(maxsize=8192)
def _rule(name: str, schema: Schema | None) -> _Rule:
    """The :class:`_Rule` of column ``name`` under ``schema`` (schemas do not change once
    built, so the answer is kept)."""
    at = schema.attribute_type(name) if schema is not None else None
    base = name.split(";", 1)[0].lower()
    if at is None:
        single = kind = syntax = None
    else:
        syntax, single = at.syntax, at.single_value
        kind = ("integer" if syntax in INTEGER_SYNTAXES else "boolean"
                if syntax == BOOLEAN_SYNTAX else "time" if syntax == TIME_SYNTAX else "text")
    return _Rule(
        syntax=syntax, typed_by="schema" if at is not None else "inspection",
        single=single, kind=kind, secret=is_secret(name),
        binary=(schema.is_binary(name) if schema is not None else
                ";binary" in name.lower() or base in BINARY_ATTRIBUTES),
        filetime=base in FILETIME_ATTRIBUTES,
        int_pattern=_INT_SCHEMA_RE if at is not None else _INT_CANONICAL_RE)


def _column(
    name: str,
    col: list[Any],
    dns: list[str],
    schema: Schema | None,
    show_secrets: bool,
    warnings: list[str],
) -> tuple[Any, dict[str, Any]]:
    """Type one column; returns (array or Series, description)."""
    rule = _rule(name, schema)
    n = len(col)
    info: dict[str, Any] = {"kind": "text", "syntax": rule.syntax, "single": True,
                            "typed_by": rule.typed_by, "masked": False}
    masked = rule.secret and not show_secrets
    binary = masked or rule.binary

    # one C pass over the values: a list<string> array (validates UTF-8) or list<binary>
    lists = None
    if not binary:
        try:
            lists = _text_lists(col)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            if rule.typed_by == "schema":
                rows = col.to_pylist() if isinstance(col, (pa.Array, pa.ChunkedArray)) else col
                row, value = _first_bad(rows, _not_utf8)
                shown = MASK if rule.secret else repr(value)
                warnings.append(f"{name}: {shown} in {dns[row]!r} is not UTF-8 text; "
                                "the column holds bytes")
            binary = True
    if lists is None:
        try:
            lists = pa.array(col, type=_LIST_BIN)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise LdapnbError(
                f"column {name!r}: every cell must be a list of str or bytes values "
                f"(or empty): {exc}") from exc
    if lists.null_count:  # None for "missing": make it an empty list
        lists = pa.array([v if v is not None else () for v in col], type=lists.type)

    single = rule.single
    if single is False and not masked and (binary or rule.kind == "text"):
        # multi-valued by the schema and nothing to check: the lists are the column
        info["single"] = False
        if binary:
            info["kind"] = "binary"
        return _arrow(lists), info

    lens = lists.value_lengths().to_numpy(zero_copy_only=False)
    most = int(lens.max()) if n else 0
    if single is None:
        single = most <= 1
    elif single and most > 1:
        row = int(np.argmax(lens > 1))
        warnings.append(
            f"{name}: the schema says SINGLE-VALUE but {dns[row]!r} has {int(lens[row])} "
            "values; the column holds lists")
        single = False
    info["single"] = single
    present = lens > 0

    if masked:
        info.update(kind="secret", masked=True)
        if single:
            return pd.arrays.ArrowStringArray(
                pc.if_else(pa.array(present), MASK, pa.scalar(None, pa.string()))), info
        return _arrow(pa.array([[MASK] if p else [] for p in present.tolist()],
                               type=_LIST_STR)), info
    if binary:
        info["kind"] = "binary"
        if not single:
            return _arrow(lists), info
        return _objects(_scatter(lists.flatten(), present).to_pylist()), info
    if rule.kind == "text" and not single:
        return _arrow(lists), info

    flat = lists.flatten()
    arr = _scatter(flat, present) if single else flat
    kind = rule.kind if rule.kind is not None else _inspect(arr)
    row_lens = None if single else lens.tolist()

    if kind == "integer":
        bad = _bad_positions(arr, _matches(arr, rule.int_pattern))
        if bad is None and single and rule.filetime:
            filetimes = _filetimes(arr)
            if filetimes is not None:
                info.update(kind="time", typed_by="AD FILETIME")
                return filetimes, info
        if bad is None:
            info["kind"] = "integer"
            return _integers(arr, row_lens), info
        _warn_bad(warnings, name, "an INTEGER", arr, bad, row_lens, dns)
    elif kind == "boolean":
        bad = _bad_positions(arr, _is_true_false(arr))
        if bad is None:
            info["kind"] = "boolean"
            return _booleans(arr, row_lens), info
        _warn_bad(warnings, name, "a BOOLEAN (TRUE or FALSE)", arr, bad, row_lens, dns)
    elif kind == "time":
        micros, bad_list = _times(arr)
        if not bad_list:
            info["kind"] = "time"
            return _time_values(micros, arr, row_lens), info
        if rule.typed_by == "schema":
            _warn_bad(warnings, name, "a GeneralizedTime", arr, bad_list, row_lens, dns)

    if single:
        return pd.arrays.ArrowStringArray(arr), info
    return _arrow(lists), info


def _text_lists(col: Any) -> pa.Array:
    """``col`` as ``list<string>``; ArrowInvalid when a value is not UTF-8.  A page's
    ``list<binary>`` array is reinterpreted in place and its UTF-8 checked (a tenth of a cast's
    time); anything else, or a check that fails, goes through the conversion."""
    if isinstance(col, pa.ListArray) and col.type == _LIST_BIN:
        lists = col.view(_LIST_STR)
        try:
            lists.validate(full=True)
        except pa.ArrowInvalid:  # perhaps only outside a slice: let the conversion decide
            pass
        else:
            return lists
    return pa.array(col, type=_LIST_STR)


def _scatter(flat: pa.Array, present: np.ndarray) -> pa.Array:
    """One value per row: ``flat``'s values at the rows where ``present``, null elsewhere."""
    if len(flat) == len(present):
        return flat
    return pc.replace_with_mask(pa.nulls(len(present), flat.type), pa.array(present), flat)


def _inspect(arr: pa.Array) -> str:
    """The kind a column's values all fit: integer, boolean, time or text."""
    present = len(arr) - arr.null_count
    if not present:
        return "text"
    if _trues(_matches(arr, _INT_CANONICAL_RE)) == present:
        return "integer"
    if _trues(_is_true_false(arr)) == present:
        return "boolean"
    if _trues(_matches(arr, r"^[0-9]{10}")) == present:
        return "time"  # confirmed (or not) by the full parse
    return "text"


_MATCH = pc.get_function("match_substring_regex")
_IS_IN = pc.get_function("is_in")
_TRUE_FALSE_SET = pc.SetLookupOptions(_TRUE_FALSE)


@functools.cache
def _regex(pattern: str) -> pc.MatchSubstringOptions:
    return pc.MatchSubstringOptions(pattern)


def _matches(arr: pa.Array, pattern: str) -> pa.Array:
    """``pc.match_substring_regex(arr, pattern)``, its options made once per pattern (a
    third of a one-row call went to making them)."""
    return _MATCH.call([arr], _regex(pattern))


def _is_true_false(arr: pa.Array) -> pa.Array:
    """``pc.is_in(arr, value_set=["TRUE", "FALSE"])``, the set hashed once."""
    return _IS_IN.call([arr], _TRUE_FALSE_SET)


def _trues(flags: pa.Array) -> int:
    """How many values are true (``BooleanArray.true_count`` crashes pyarrow 14)."""
    return int(pc.sum(flags).as_py() or 0)


def _bad_positions(arr: pa.Array, ok: pa.Array) -> list[int] | None:
    """Positions of present values where ``ok`` is false; None when there are none."""
    if not arr.null_count:  # every value present: read the flags once
        good = ok.to_numpy(zero_copy_only=False)
        return None if good.all() else np.flatnonzero(~good).tolist()
    if _trues(ok) == len(arr) - arr.null_count:
        return None
    flags = pc.fill_null(pc.invert(ok), False).to_numpy(zero_copy_only=False)
    return np.flatnonzero(flags).tolist()


def _warn_bad(warnings: list[str], name: str, what: str, arr: pa.Array, bad: list[int],
              lens: list[int] | None, dns: list[str]) -> None:
    row = bad[0] if lens is None else int(np.searchsorted(np.cumsum(lens), bad[0],
                                                           side="right"))
    shown = MASK if is_secret(name) else repr(arr[bad[0]].as_py())
    warnings.append(
        f"{name}: {len(bad)} value(s) are not {what} (first: {shown} in "
        f"{dns[row]!r}); the column is kept as text")


def _not_utf8(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


def _first_bad(col: list[Any], test: Any) -> tuple[int, Any]:
    for row, values in enumerate(col):
        for value in values or ():
            if test(value):
                return row, value
    return 0, None  # pragma: no cover - only called when a bad value exists


# -- conversions -----------------------------------------------------------------------------
def _arrow(lists: pa.Array) -> pd.arrays.ArrowExtensionArray:
    """A list column kept in Arrow: each cell reads as a Python list."""
    return pd.arrays.ArrowExtensionArray(lists)


def _objects(values: list[Any]) -> pd.Series:
    """An object column holding ``values`` as they are (lists stay lists)."""
    return pd.Series(np.fromiter(values, dtype=object, count=len(values)), dtype=object,
                     copy=False)


def _regroup(flat: list[Any], lens: list[int]) -> list[list[Any]]:
    """Cut ``flat`` back into one list per row."""
    out: list[list[Any]] = []
    add = out.append
    pos = 0
    for count in lens:
        end = pos + count
        add(flat[pos:end])
        pos = end
    return out


def _masked(arr: pa.Array, values: np.ndarray, cls: Any) -> Any:
    mask = arr.is_null().to_numpy(zero_copy_only=False)
    return cls(values, mask)


def _integers(arr: pa.Array, lens: list[int] | None) -> Any:
    if lens is not None:  # lists of Python ints: any size
        return _objects(_regroup([int(x) for x in arr.to_pylist()], lens))
    try:
        ints = pc.cast(arr, pa.int64())
    except (pa.ArrowInvalid, OverflowError):  # beyond int64: Python ints, never rounded
        return _objects([int(x) if x is not None else None for x in arr.to_pylist()])
    if not arr.null_count:
        return pd.arrays.IntegerArray(ints.to_numpy(), np.zeros(len(arr), dtype=bool))
    values = pc.fill_null(ints, 0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return _masked(arr, values, pd.arrays.IntegerArray)


def _booleans(arr: pa.Array, lens: list[int] | None) -> Any:
    truth = pc.equal(arr, "TRUE")
    if lens is not None:
        return _objects(_regroup(truth.to_pylist(), lens))
    values = pc.fill_null(truth, False).to_numpy(zero_copy_only=False).astype(bool)
    return _masked(arr, values, pd.arrays.BooleanArray)


def _times(arr: pa.Array) -> tuple[np.ndarray, list[int]]:
    """Microseconds since the epoch for every value (0 where missing), and bad positions."""
    fast = _matches(arr, _TIME_FAST_RE)
    common = pc.if_else(fast, arr, pa.scalar(None, pa.string()))
    parsed = pc.strptime(common, format="%Y%m%d%H%M%SZ", unit="us", error_is_null=True)
    # strptime lets a day overflow into the next month (Feb 31 -> Mar 2): check the day
    day = pc.cast(pc.utf8_slice_codeunits(common, 6, 8), pa.int64())
    parsed = pc.if_else(pc.equal(pc.day(parsed), day), parsed,
                        pa.scalar(None, parsed.type))
    micros = pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).copy()
    todo = pc.and_(parsed.is_null(), pc.invert(arr.is_null()))
    bad: list[int] = []
    if _trues(todo):
        for i in np.flatnonzero(todo.to_numpy(zero_copy_only=False)).tolist():
            value = parse_generalized_time(arr[i].as_py())
            if value is None:
                bad.append(i)
            else:
                micros[i] = value
    return micros, bad


def _filetimes(arr: pa.Array) -> Any:
    """AD FILETIME values (100 ns ticks since 1601-01-01 UTC) as UTC datetimes; 0 and
    0x7FFFFFFFFFFFFFFF ("never", "not set") and times past 9999 as NaT.  None when a value
    does not fit an int64 or is negative (the column then stays integers)."""
    try:
        ticks = pc.cast(arr, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    values = pc.fill_null(ticks, 0).to_numpy(zero_copy_only=False)
    if (values < 0).any():
        return None
    never = (values == 0) | (values >= _FILETIME_NEVER) | (values > _FILETIME_MAX) \
        | arr.is_null().to_numpy(zero_copy_only=False)
    micros = np.where(never, 0, values // 10 - _FILETIME_EPOCH_US).astype("datetime64[us]")
    micros[never] = np.datetime64("NaT")
    return pd.Series(pd.DatetimeIndex(micros).tz_localize("UTC"), copy=False).array


def _time_values(micros: np.ndarray, arr: pa.Array, lens: list[int] | None) -> Any:
    stamps = micros.astype("datetime64[us]")
    if lens is not None:
        utc = pd.DatetimeIndex(stamps).tz_localize("UTC")
        return _objects(_regroup(list(utc), lens))
    stamps[arr.is_null().to_numpy(zero_copy_only=False)] = np.datetime64("NaT")
    return pd.Series(pd.DatetimeIndex(stamps).tz_localize("UTC"), copy=False).array
