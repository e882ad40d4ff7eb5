"""The quick ways ``ldapnb.frames`` builds a frame give the frame the general ways give.

``d.search`` hands :func:`frame_from_pages` Arrow ``list<binary>`` pages: a page is viewed as
``list<string>`` after a UTF-8 check (not converted), columns the schema says are multi-valued
text skip the length pass, the typing decisions a column's name and schema imply are cached
per schema (``_rule``), and the frame is assembled from its typed blocks.  Each shape below is
built both ways and must come out identical (values, dtypes, Arrow types, blocks, attrs):

* quick: Arrow pages through :func:`frame_from_pages` (what ``Directory.search`` calls), the
  frame assembled from blocks;
* general: plain Python lists through :func:`frame_from_columns` (what ``to_frame`` calls),
  the frame made by ``pd.DataFrame(dict)``.

It also checks a golden record of the same shapes made by the code before these changes
(``tests/data/frames_golden.json``, regenerate with ``python tests/test_frames_fastpath.py``
only when a change of output is meant).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from test_frames import tiny_schema as frames_tiny_schema

from ldapnb import frames
from ldapnb.frames import frame_from_columns, frame_from_pages, to_frame
from ldapnb.schema import SYNTAX as S
from ldapnb.schema import Schema, ad_schema, default_schema
from ldapnb.sources.base import ColumnPage

GOLDEN = Path(__file__).parent / "data" / "frames_golden.json"


def tiny_schema() -> Schema:
    """test_frames' schema, with a FILETIME attribute."""
    return frames_tiny_schema(f"( 9.13 NAME 'pwdLastSet' SYNTAX {S['integer']} SINGLE-VALUE )")


SCHEMAS = {"none": None, "tiny": tiny_schema(), "default": default_schema(), "ad": ad_schema()}

#: kind of column -> (values to draw from, column names that meet them)
KINDS: dict[str, tuple[list[Any], list[str]]] = {
    "integer": (["1", "-2", "0", "4294967296", "007"],
                ["n", "ns", "uidNumber", "xint"]),
    "bad-integer": (["1", "x", "+5", "1 ", "123456789012345678901234567890"],
                    ["n", "ns", "uidNumber", "xint"]),
    "boolean": (["TRUE", "FALSE"], ["flag", "flags", "hasSubordinates", "xbool"]),
    "bad-boolean": (["TRUE", "true", "yes"], ["flag", "flags", "xbool"]),
    "time": (["20240101120000Z", "20240229235959Z", "197001010100+0100", "1970010100.5Z",
              "99991231235959Z", "20240101120060Z"],
             ["when", "whens", "createTimestamp", "xtime"]),
    "bad-time": (["20240101120000Z", "20230229000000Z", "20241301000000Z", "junk"],
                 ["when", "whens", "createTimestamp", "xtime"]),
    "filetime": (["0", "9223372036854775807", "133000000000000000", "1"],
                 ["pwdLastSet", "lastLogon", "accountExpires"]),
    "bad-filetime": (["-1", "133000000000000000", "999999999999999999999"],
                     ["pwdLastSet", "lastLogonTimestamp"]),
    "text": (["a", "b", "Ülrich", "", "01234"], ["title", "cn", "pin", "xtext", "cn;lang-fr"]),
    "binary": ([b"\x00\x01", b"\xff\xfe", b"ok"],
               ["blob", "blobs", "jpegPhoto", "objectSid", "x;binary"]),
    "secret": (["{SSHA}abc", b"\xff\x00", "s3cret"], ["userPassword", "unicodePwd"]),
    "non-utf8": (["a", b"\xff", b"\xed\xa0\x80", "1"], ["cn", "title", "xtext", "n"]),
}
ROWS = [0, 1, 2, 3, 40]


def shape(kind: str, rows: int, seed: int) -> tuple[list[str], dict[str, list[Any]]]:
    """``rows`` DNs and, per name of ``kind``, a column of 0-3 values per row (some rows
    missing, values as ``str`` or ``bytes``), plus a multi-valued text column beside it."""
    rnd = random.Random(f"{kind}/{rows}/{seed}")
    pool, names = KINDS[kind]
    dns = [f"cn=r{i},dc=x" for i in range(rows)]
    columns: dict[str, list[Any]] = {}
    for name in names:
        most = rnd.choice([1, 1, 2, 3])
        col: list[Any] = []
        for _ in range(rows):
            count = rnd.choice([0, 1, 1, 1, most])
            values = [rnd.choice(pool) for _ in range(count)]
            if rnd.random() < 0.5:
                values = [v.encode() if isinstance(v, str) else v for v in values]
            col.append(values if values or rnd.random() < 0.7 else None)
        columns[name] = col
    columns["description"] = [[f"d{i}", "x"][: 1 + i % 2] for i in range(rows)]
    return dns, columns


def cases() -> list[tuple[str, int, int]]:
    return [(kind, rows, seed) for kind in KINDS for rows in ROWS for seed in range(2)]


def as_page(dns: list[str], columns: dict[str, list[Any]]) -> ColumnPage:
    """The shape as a server page: every value ``bytes``, a missing one an empty list (a
    page has no None cells)."""
    return ColumnPage(dns, {name: [() if v is None else
                                   [x.encode() if isinstance(x, str) else x for x in v]
                                   for v in col] for name, col in columns.items()})


def general(dns: list[str], columns: dict[str, list[Any]], schema: Schema | None,
            show_secrets: bool, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    with monkeypatch.context() as m:
        m.setattr(frames, "_from_blocks", None)  # pd.DataFrame(dict), as pandas < 3 does
        return frame_from_columns(dns, columns, schema=schema, show_secrets=show_secrets)


def fingerprint(df: pd.DataFrame) -> dict[str, Any]:
    """Everything a user can see of a frame, as JSON: columns, dtypes, Arrow types, cells
    (repr), index and attrs."""
    cols = {}
    for name in df.columns:
        s = df[name]
        arrow = getattr(s.array, "_pa_array", None)
        cols[name] = {"dtype": str(s.dtype), "array": type(s.array).__name__,
                      "arrow": str(arrow.type) if arrow is not None else None,
                      "cells": [repr(v) for v in s.tolist()]}
    return {"columns": cols, "index": repr(df.index), "column_index": repr(df.columns),
            "attrs": df.attrs}


def assert_same(quick: pd.DataFrame, reference: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(quick, reference, check_exact=True)
    assert quick.attrs == reference.attrs
    assert fingerprint(quick) == fingerprint(reference)
    # the same blocks, in the same places (what pd.DataFrame(dict) would have made)
    assert [(type(b).__name__, b.shape, b.mgr_locs.as_array.tolist())
            for b in quick._mgr.blocks] == [(type(b).__name__, b.shape,
                                             b.mgr_locs.as_array.tolist())
                                            for b in reference._mgr.blocks]
    for name in quick.columns:  # e.g. Int64 data read-only or not, as before
        data = getattr(quick[name].array, "_data", None)
        if data is not None:
            assert data.flags.writeable == reference[name].array._data.flags.writeable


@pytest.mark.parametrize(("kind", "rows", "seed"), cases())
def test_quick_paths_build_the_general_frame(kind: str, rows: int, seed: int,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    dns, columns = shape(kind, rows, seed)
    for schema in SCHEMAS.values():
        for show_secrets in (False, True):
            reference = general(dns, columns, schema, show_secrets, monkeypatch)
            quick = frame_from_pages([as_page(dns, columns)], schema=schema,
                                     show_secrets=show_secrets)
            reference.attrs["referrals"] = []  # frame_from_pages says there were none
            assert_same(quick, reference)


@pytest.mark.parametrize("kind", list(KINDS))
def test_pages_split_anywhere_give_the_one_page_frame(kind: str) -> None:
    dns, columns = shape(kind, 40, 0)
    page = as_page(dns, columns)
    whole = frame_from_pages([page], schema=default_schema())
    cuts = [0, 1, 7, 39, 40]
    pages = [ColumnPage(dns[a:b], {k: v[a:b] for k, v in page.columns.items()})
             for a, b in zip(cuts, cuts[1:], strict=False)]
    assert_same(frame_from_pages(pages, schema=default_schema()), whole)


def test_a_sliced_arrow_column_types_as_the_conversion_does() -> None:
    # the quick UTF-8 check reads the whole child buffer, so on a slice it must defer to the
    # conversion: a clean slice of a clean buffer is text like the same Python lists ...
    dns = ["cn=a", "cn=b"]
    clean = pa.array([[b"z"], [b"a"], [b"b", b"c"], [b"y"]], type=pa.list_(pa.binary()))
    reference = frame_from_columns(dns, {"cn": [["a"], ["b", "c"]]}, schema=tiny_schema())
    assert_same(frame_from_columns(dns, {"cn": clean.slice(1, 2)}, schema=tiny_schema()),
                reference)
    # ... and with a bad value outside the slice the answer is the conversion's, unchanged:
    # pyarrow's cast judges the whole buffer, so the column holds bytes (as before)
    dirty = pa.array([[b"\xff"], [b"a"], [b"b", b"c"], [b"\xfe"]], type=pa.list_(pa.binary()))
    df = frame_from_columns(dns, {"cn": dirty.slice(1, 2)})
    assert df["cn"].tolist() == [[b"a"], [b"b", b"c"]]
    assert df.attrs["ldapnb"]["attributes"]["cn"]["kind"] == "binary"


def test_the_cached_rule_is_per_schema() -> None:
    # the same name types differently under another schema (the cache must not leak)
    cols = {"n": [["7"]], "pwdLastSet": [["0"]]}
    with_tiny = frame_from_columns(["cn=a"], cols, schema=tiny_schema())
    without = frame_from_columns(["cn=a"], cols)
    assert with_tiny.attrs["ldapnb"]["attributes"]["n"]["typed_by"] == "schema"
    assert without.attrs["ldapnb"]["attributes"]["n"]["typed_by"] == "inspection"
    assert str(with_tiny["pwdLastSet"].dtype) == "datetime64[us, UTC]"
    other = Schema.from_definitions([f"( 9.1 NAME 'n' SYNTAX {S['directorystring']} )"])
    assert frame_from_columns(["cn=a"], cols, schema=other)["n"].tolist() == [["7"]]


def test_a_one_entry_search_gives_the_entries_frame() -> None:
    # the call the latency target is about: d.search of one entry by an indexed equality
    from ldapnb import Directory

    d = Directory.embedded()
    uid = next(e for e in d.entries("(uid=*)")).get("uid")[0]
    quick = d.search(f"(uid={uid})")
    reference = to_frame(list(d.entries(f"(uid={uid})")), schema=d.schema)
    reference.attrs["referrals"] = []
    assert len(quick) == 1
    pd.testing.assert_frame_equal(quick, reference, check_exact=True)
    assert quick.attrs == reference.attrs


def golden() -> dict[str, str]:
    """Per shape, the SHA-256 of the fingerprints of its frames under every schema, secrets
    shown and not, built from a page as ``d.search`` builds it (the test above ties the
    other ways to it)."""
    out = {}
    for kind, rows, seed in cases():
        dns, columns = shape(kind, rows, seed)
        prints = []
        for label, schema in SCHEMAS.items():
            for show_secrets in (False, True):
                df = frame_from_pages([as_page(dns, columns)], schema=schema,
                                      show_secrets=show_secrets)
                prints.append([label, show_secrets, fingerprint(df)])
        text = json.dumps(prints, sort_keys=True, default=repr)
        out[f"{kind}/{rows}/{seed}"] = hashlib.sha256(text.encode()).hexdigest()
    return out


def test_frames_are_what_they_were_before_the_quick_paths() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = golden()
    assert got.keys() == expected.keys()
    changed = [key for key in expected if got[key] != expected[key]]
    assert not changed, f"frames differ from the golden record for {changed}"


if __name__ == "__main__":  # regenerate the golden record (only when a change is meant)
    GOLDEN.write_text(json.dumps(golden(), indent=0, sort_keys=True), encoding="utf-8")
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)", file=sys.stderr)
