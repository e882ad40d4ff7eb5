"""Tests for ldapnb.frames: entries -> typed DataFrames."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldapnb.entry import MASK, Entry
from ldapnb.errors import LdapnbError
from ldapnb.frames import frame_from_columns, parse_generalized_time, to_frame
from ldapnb.schema import SYNTAX, Schema, default_schema

S = SYNTAX


def tiny_schema(*more: str) -> Schema:
    """A schema of one attribute per syntax the typing knows (plus ``more`` definitions)."""
    return Schema.from_definitions([
        f"( 9.1 NAME 'n' SYNTAX {S['integer']} SINGLE-VALUE )",
        f"( 9.2 NAME 'ns' SYNTAX {S['integer']} )",
        f"( 9.3 NAME 'flag' SYNTAX {S['boolean']} SINGLE-VALUE )",
        f"( 9.4 NAME 'flags' SYNTAX {S['boolean']} )",
        f"( 9.5 NAME 'when' SYNTAX {S['generalizedtime']} SINGLE-VALUE )",
        f"( 9.6 NAME 'whens' SYNTAX {S['generalizedtime']} )",
        f"( 9.7 NAME 'blob' SYNTAX {S['octetstring']} SINGLE-VALUE )",
        f"( 9.8 NAME 'blobs' SYNTAX {S['octetstring']} )",
        f"( 9.9 NAME 'title' SYNTAX {S['directorystring']} SINGLE-VALUE )",
        f"( 9.10 NAME ( 'cn' 'commonName' ) SYNTAX {S['directorystring']} )",
        f"( 9.11 NAME 'userPassword' SYNTAX {S['octetstring']} )",
        f"( 9.12 NAME 'pin' SYNTAX {S['directorystring']} SINGLE-VALUE )",
        *more,
    ])


def utc(*args: int) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime(*args, tzinfo=dt.UTC))


# -- columns: order, names -------------------------------------------------------------------
def test_dn_first_then_attributes_in_order_of_first_appearance_and_first_spelling():
    df = to_frame([Entry("cn=a,dc=x", {"sn": ["A"], "cn": ["a"]}),
                   Entry("cn=b,dc=x", {"CN": ["b"], "mail": ["b@x"], "SN": ["B"]})])
    assert list(df.columns) == ["dn", "sn", "cn", "mail"]
    assert df["dn"].tolist() == ["cn=a,dc=x", "cn=b,dc=x"]
    assert df["cn"].tolist() == ["a", "b"]
    assert df["sn"].tolist() == ["A", "B"]


def test_requested_attributes_keep_their_order_and_spelling_and_match_any_case():
    entries = [Entry("cn=a", {"cn": ["a"], "sn": ["A"], "mail": ["m"]})]
    df = to_frame(entries, attributes=["MAIL", "Cn", "missing", "dn"])
    assert list(df.columns) == ["dn", "MAIL", "Cn", "missing"]
    assert df.loc[0, "MAIL"] == "m" and df.loc[0, "Cn"] == "a"
    assert df["missing"].isna().all()


def test_wildcard_adds_every_other_attribute_after_the_named_ones():
    entries = [Entry("cn=a", {"cn": ["a"], "sn": ["A"], "mail": ["m"]})]
    assert list(to_frame(entries, attributes=["mail", "*"]).columns) == ["dn", "mail", "cn", "sn"]


def test_options_are_their_own_columns():
    df = to_frame([Entry("cn=a", {"cn": ["a"], "cn;lang-fr": ["à"]})], schema=tiny_schema())
    assert list(df.columns) == ["dn", "cn", "cn;lang-fr"]
    assert df.loc[0, "cn"] == ["a"] and df.loc[0, "cn;lang-fr"] == ["à"]
    assert df.attrs["ldapnb"]["attributes"]["cn;lang-fr"]["kind"] == "text"


# -- typing with a schema --------------------------------------------------------------------
def typed_frame() -> pd.DataFrame:
    entries = [
        Entry("cn=a,dc=x", {"n": ["42"], "ns": ["1", "-2"], "flag": ["TRUE"],
                            "flags": ["FALSE", "TRUE"], "when": ["20240115123456Z"],
                            "whens": ["20240101000000Z"], "blob": [b"\x00\xff"],
                            "blobs": [b"\x01", b"\x02"], "title": ["Boss"], "cn": ["a", "aa"]}),
        Entry("cn=b,dc=x", {"cn": ["b"]}),
    ]
    return to_frame(entries, schema=tiny_schema())


def test_schema_dtypes():
    df = typed_frame()
    assert str(df["dn"].dtype) == "string"
    assert df["n"].dtype == "Int64"
    assert df["flag"].dtype == "boolean"
    assert isinstance(df["when"].dtype, pd.DatetimeTZDtype)
    assert str(df["when"].dtype.tz) == "UTC"
    assert df["title"].dtype == pd.StringDtype("pyarrow")
    for name in ("ns", "flags", "whens", "blob"):
        assert df[name].dtype == object, name
    assert df["cn"].dtype == pd.ArrowDtype(pa.list_(pa.string()))
    assert df["blobs"].dtype == pd.ArrowDtype(pa.list_(pa.binary()))


def test_arrow_list_cells_read_as_python_lists():
    df = typed_frame()
    assert type(df.at[0, "cn"]) is list and df["cn"].tolist() == [["a", "aa"], ["b"]]
    assert df["cn"].map(len).tolist() == [2, 1]
    assert df["cn"].explode().tolist() == ["a", "aa", "b"]
    assert [("aa" in v) for v in df["cn"]] == [True, False]


def test_schema_values_and_missing_values():
    df = typed_frame()
    a, b = df.iloc[0], df.iloc[1]
    assert a["n"] == 42 and b["n"] is pd.NA
    assert a["ns"] == [1, -2] and all(type(v) is int for v in a["ns"]) and b["ns"] == []
    assert a["flag"] is True or a["flag"] == True  # noqa: E712 - numpy bool
    assert b["flag"] is pd.NA
    assert a["flags"] == [False, True] and b["flags"] == []
    assert a["when"] == utc(2024, 1, 15, 12, 34, 56) and b["when"] is pd.NaT
    assert a["whens"] == [utc(2024, 1, 1)] and b["whens"] == []
    assert a["blob"] == b"\x00\xff" and b["blob"] is None
    assert a["blobs"] == [b"\x01", b"\x02"] and b["blobs"] == []
    assert a["title"] == "Boss" and b["title"] is pd.NA
    assert a["cn"] == ["a", "aa"] and b["cn"] == ["b"]
    meta = df.attrs["ldapnb"]["attributes"]
    assert meta["n"] == {"kind": "integer", "syntax": S["integer"], "single": True,
                         "typed_by": "schema", "masked": False}
    assert meta["whens"]["kind"] == "time" and meta["whens"]["single"] is False
    assert df.attrs["warnings"] == []


def test_missing_multi_valued_cells_are_distinct_lists():
    df = to_frame([Entry("cn=a", {}), Entry("cn=b", {})], attributes=["ns"],
                  schema=tiny_schema())
    assert df["ns"].tolist() == [[], []]
    assert df.loc[0, "ns"] is not df.loc[1, "ns"]


def test_default_schema_types_real_attributes():
    e = Entry("uid=u,dc=x", {"uidNumber": [b"1001"], "objectSid": [b"\x01\x05"],
                             "whenCreated": [b"20240101000000.0Z"], "member": [b"cn=g"],
                             "hasSubordinates": [b"FALSE"], "mail": [b"u@x"]})
    df = to_frame([e], schema=default_schema())
    assert df["uidNumber"].dtype == "Int64" and df.loc[0, "uidNumber"] == 1001
    assert df.loc[0, "objectSid"] == b"\x01\x05"
    assert df.loc[0, "whenCreated"] == utc(2024, 1, 1)
    assert df.loc[0, "member"] == ["cn=g"] and df.loc[0, "mail"] == ["u@x"]
    assert df["hasSubordinates"].dtype == "boolean" and not df.loc[0, "hasSubordinates"]


@pytest.mark.parametrize(("text", "expected"), [
    ("20240115123456Z", utc(2024, 1, 15, 12, 34, 56)),
    ("20240115123456.5Z", utc(2024, 1, 15, 12, 34, 56, 500000)),
    ("20240115123456,25Z", utc(2024, 1, 15, 12, 34, 56, 250000)),
    ("20240115123456.1234567Z", utc(2024, 1, 15, 12, 34, 56, 123456)),
    ("202401151234Z", utc(2024, 1, 15, 12, 34)),
    ("202401151234.5Z", utc(2024, 1, 15, 12, 34, 30)),
    ("2024011512Z", utc(2024, 1, 15, 12)),
    ("2024011512.25Z", utc(2024, 1, 15, 12, 15)),
    ("20240115123456+0200", utc(2024, 1, 15, 10, 34, 56)),
    ("20240115013456-0130", utc(2024, 1, 15, 3, 4, 56)),
    ("20240101003000+01", utc(2023, 12, 31, 23, 30)),
    ("20240101000000.0Z", utc(2024, 1, 1)),
    ("20161231235960Z", utc(2017, 1, 1)),  # leap second
    ("99991231235959Z", utc(9999, 12, 31, 23, 59, 59)),
    ("00010101000000Z", utc(1, 1, 1)),
])
def test_generalized_time_forms(text, expected):
    df = to_frame([Entry("cn=a", {"when": [text]})], schema=tiny_schema())
    assert df.loc[0, "when"] == expected
    assert df.attrs["warnings"] == []
    assert parse_generalized_time(text.encode()) == parse_generalized_time(text)


@pytest.mark.parametrize("bad", [
    "20240231000000Z", "20241301000000Z", "20240115246000Z", "20240115126000Z",
    "20240115120061Z", "20240115120000", "2024-01-15T12:00:00Z", "20240115120000+2500",
    "202401151Z", "yesterday",
])
def test_invalid_time_keeps_the_column_as_text_with_a_warning(bad):
    entries = [Entry("cn=a", {"when": ["20240101000000Z"]}), Entry("cn=b", {"when": [bad]})]
    df = to_frame(entries, schema=tiny_schema())
    assert df["when"].tolist() == ["20240101000000Z", bad]
    assert df.attrs["ldapnb"]["attributes"]["when"]["kind"] == "text"
    [warning] = df.attrs["warnings"]
    assert "when" in warning and repr(bad) in warning and "'cn=b'" in warning
    assert parse_generalized_time(bad) is None


def test_invalid_time_in_a_multi_valued_column_names_the_right_entry():
    entries = [Entry("cn=a", {"whens": ["20240101000000Z", "20240102000000Z"]}),
               Entry("cn=b", {}), Entry("cn=c", {"whens": ["20240101000000Z", "nope"]})]
    df = to_frame(entries, schema=tiny_schema())
    assert df.loc[2, "whens"] == ["20240101000000Z", "nope"]
    assert "'cn=c'" in df.attrs["warnings"][0]


def test_big_integers_are_python_ints_never_rounded():
    big = 2**70 + 1
    df = to_frame([Entry("cn=a", {"n": [str(big)], "ns": [str(-big), "1"]}), Entry("cn=b", {})],
                  schema=tiny_schema())
    assert df["n"].dtype == object
    assert df.loc[0, "n"] == big and type(df.loc[0, "n"]) is int and df.loc[1, "n"] is None
    assert df.loc[0, "ns"] == [-big, 1]
    edge = to_frame([Entry("cn=a", {"n": [str(2**63 - 1)]})], schema=tiny_schema())
    assert edge["n"].dtype == "Int64" and edge.loc[0, "n"] == 2**63 - 1


def test_bad_integer_and_boolean_are_kept_as_text_with_warnings():
    df = to_frame([Entry("cn=a", {"n": ["12a"], "flag": ["yes"]})], schema=tiny_schema())
    assert df.loc[0, "n"] == "12a" and df.loc[0, "flag"] == "yes"
    assert len(df.attrs["warnings"]) == 2
    assert "INTEGER" in df.attrs["warnings"][0] and "BOOLEAN" in df.attrs["warnings"][1]


def test_broken_single_value_gives_lists_and_a_warning():
    df = to_frame([Entry("cn=a", {"title": ["x", "y"]}), Entry("cn=b", {"title": ["z"]})],
                  schema=tiny_schema())
    assert df["title"].tolist() == [["x", "y"], ["z"]]
    assert "SINGLE-VALUE" in df.attrs["warnings"][0] and "'cn=a'" in df.attrs["warnings"][0]


def test_text_that_is_not_utf8_becomes_bytes_with_a_warning():
    df = to_frame([Entry("cn=a", {"title": [b"\xff\xfe"]}), Entry("cn=b", {"title": ["ok"]})],
                  schema=tiny_schema())
    assert df["title"].tolist() == [b"\xff\xfe", b"ok"]
    assert "not UTF-8" in df.attrs["warnings"][0]


def test_binary_values_given_as_str_are_encoded():
    df = to_frame([Entry("cn=a", {"blob": ["abc"], "blobs": ["é"]})], schema=tiny_schema())
    assert df.loc[0, "blob"] == b"abc" and df.loc[0, "blobs"] == ["é".encode()]


# -- secrets ---------------------------------------------------------------------------------
def test_secrets_are_masked_unless_asked():
    entries = [Entry("cn=a", {"userPassword": ["{SSHA}abc", "plain"]}), Entry("cn=b", {})]
    masked = to_frame(entries, schema=tiny_schema())
    assert masked["userPassword"].tolist() == [[MASK], []]
    assert "abc" not in masked.to_string() and "plain" not in repr(masked)
    assert masked.attrs["ldapnb"]["attributes"]["userPassword"]["masked"] is True
    shown = to_frame(entries, schema=tiny_schema(), show_secrets=True)
    assert shown["userPassword"].tolist() == [[b"{SSHA}abc", b"plain"], []]
    no_schema = to_frame(entries)
    assert no_schema["userPassword"].tolist() == [[MASK], []]
    assert to_frame(entries, show_secrets=True)["userPassword"].tolist() == [
        ["{SSHA}abc", "plain"], []]


def test_single_valued_secret_is_a_masked_scalar():
    df = to_frame([Entry("cn=a", {"unicodePwd": [b"\x00\x01"]}), Entry("cn=b", {})])
    assert df["unicodePwd"].tolist()[0] == MASK and df["unicodePwd"].isna().tolist()[1]


# -- without a schema ------------------------------------------------------------------------
def test_inspection_types():
    entries = [
        Entry("cn=a", {"num": ["10"], "nums": ["1", "2"], "zip": ["01234"], "ok": ["TRUE"],
                       "t": ["20240115120000Z"], "mix": ["1"], "photo": [b"\xff\xd8"],
                       "objectSid": [b"\x01"], "low": ["true"]}),
        Entry("cn=b", {"num": ["-3"], "ok": ["FALSE"], "t": ["20240115120000+0100"],
                       "mix": ["x"], "low": ["false"]}),
    ]
    df = to_frame(entries)
    assert df["num"].dtype == "Int64" and df["num"].tolist() == [10, -3]
    assert df["nums"].tolist() == [[1, 2], []]
    assert df["zip"].tolist()[0] == "01234"  # leading zero: text, not 1234
    assert df["ok"].dtype == "boolean" and df["ok"].tolist() == [True, False]
    assert df["t"].tolist() == [utc(2024, 1, 15, 12), utc(2024, 1, 15, 11)]
    assert df["mix"].dtype == pd.StringDtype("pyarrow")
    assert df["photo"].tolist() == [b"\xff\xd8", None]  # not UTF-8
    assert df["objectSid"].tolist() == [b"\x01", None]  # a known binary attribute
    assert df["low"].tolist() == ["true", "false"]
    assert df.attrs["warnings"] == []  # inspection never warns: it picks what fits
    assert df.attrs["ldapnb"]["attributes"]["num"]["typed_by"] == "inspection"


def test_unknown_attribute_with_a_schema_is_typed_by_inspection():
    df = to_frame([Entry("cn=a", {"x-count": ["5"]})], schema=tiny_schema())
    assert df["x-count"].dtype == "Int64"
    assert df.attrs["ldapnb"]["attributes"]["x-count"]["typed_by"] == "inspection"


def test_no_value_column_without_schema_is_all_missing_text():
    df = to_frame([Entry("cn=a", {})], attributes=["mail"])
    assert df["mail"].dtype == pd.StringDtype("pyarrow") and df["mail"].isna().all()


# -- empty input, bytes vs str, raw columns --------------------------------------------------
def test_empty_input():
    df = to_frame([])
    assert list(df.columns) == ["dn"] and len(df) == 0
    df = to_frame(iter([]), attributes=["n", "cn"], schema=tiny_schema())
    assert list(df.columns) == ["dn", "n", "cn"] and len(df) == 0
    assert df["n"].dtype == "Int64"


def test_bytes_and_str_inputs_give_the_same_frame():
    raw = {"n": ["7"], "flag": ["FALSE"], "when": ["20240115123456.5+0100"], "cn": ["é", "b"],
           "title": ["T"], "blob": ["\x01"], "mail": ["m@x"], "userPassword": ["pw"]}
    as_str = [Entry("cn=a", raw), Entry("cn=b", {"cn": ["c"]})]
    as_bytes = [Entry("cn=a", {k: [v.encode() for v in vs] for k, vs in raw.items()}),
                Entry("cn=b", {"cn": [b"c"]})]
    for schema in (tiny_schema(), None):
        one, two = to_frame(as_str, schema=schema), to_frame(as_bytes, schema=schema)
        pd.testing.assert_frame_equal(one, two)
        assert one.attrs == two.attrs


def test_frame_from_columns_matches_to_frame_and_checks_lengths():
    df = frame_from_columns(["cn=a", "cn=b"], {"n": [[b"1"], None], "CN": [[b"x"], []],
                                               "cn": [[b"y"], [b"z"]]}, schema=tiny_schema())
    assert df["n"].tolist() == [1, pd.NA]
    assert list(df.columns) == ["dn", "n", "CN"]
    assert df["CN"].tolist() == [["x", "y"], ["z"]]
    with pytest.raises(LdapnbError, match="1 rows but there are 2 DNs"):
        frame_from_columns(["cn=a", "cn=b"], {"n": [[b"1"]]})
    with pytest.raises(LdapnbError, match="'dn'"):
        frame_from_columns(["cn=a"], {"DN": [[b"1"]]})
    with pytest.raises(LdapnbError, match="column 'n': every cell must be a list"):
        frame_from_columns(["cn=a"], {"n": [[1.5]]})


# -- property: one row per entry, cells are exactly the entry's values -----------------------
def ldap_text(value: object) -> str | bytes:
    """A typed cell value written back the way LDAP writes it."""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return _gtime(value)
    return value  # type: ignore[return-value]


def _gtime(d: dt.datetime) -> str:
    return f"{d.year:04d}{d:%m%d%H%M%S}Z"  # %Y does not pad years before 1000


_KINDS = {
    "n": st.integers(-(2**80), 2**80).map(str),
    "ns": st.integers(-(2**40), 2**40).map(str),
    "flag": st.sampled_from(["TRUE", "FALSE"]),
    "flags": st.sampled_from(["TRUE", "FALSE"]),
    "when": st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)).map(
        _gtime),
    "whens": st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)).map(
        _gtime),
    "title": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
    "cn": st.text(max_size=5),
    "blobs": st.binary(max_size=5),
    "x-free": st.text(st.sampled_from("ab01TRUEFALSE"), max_size=3),
}
_SINGLE = {"n", "flag", "when", "title"}


@st.composite
def entries(draw: st.DrawFn) -> list[Entry]:
    out = []
    for i in range(draw(st.integers(0, 6))):
        attrs: dict[str, list[str | bytes]] = {}
        for name, values in _KINDS.items():
            if draw(st.booleans()):
                size = 1 if name in _SINGLE else draw(st.integers(1, 3))
                got = draw(st.lists(values, min_size=size, max_size=size))
                if draw(st.booleans()):
                    got = [v.encode() if isinstance(v, str) else v for v in got]
                attrs[name] = got
        out.append(Entry(f"cn=e{i},dc=x", attrs))
    return out


@settings(max_examples=300, deadline=None)
@given(entries(), st.booleans())
def test_property_cells_hold_exactly_the_entry_values(ents, with_schema):
    df = to_frame(ents, schema=tiny_schema() if with_schema else None)
    assert len(df) == len(ents)
    assert df["dn"].tolist() == [e.dn for e in ents]
    meta = df.attrs["ldapnb"]["attributes"]
    for name in df.columns[1:]:
        info = meta[name]
        for row, e in enumerate(ents):
            cell = df.at[row, name]
            if info["single"]:
                got = [] if cell is None or cell is pd.NA or cell is pd.NaT else [cell]
            else:
                got = list(cell)
            expected = list(e.get(name, []))
            if info["kind"] == "binary":
                expected = [v.encode() if isinstance(v, str) else v for v in expected]
            else:
                expected = [v.decode() if isinstance(v, bytes) else v for v in expected]
            assert [ldap_text(v) for v in got] == expected, (name, row)


def test_ad_filetime_attributes_are_utc_datetimes_with_never_as_nat():
    from ldapnb import Directory, ad

    d = Directory.embedded("contoso")
    attrs = ["pwdLastSet", "lastLogonTimestamp", "accountExpires", "lockoutTime",
             "badPasswordTime", "userAccountControl"]
    df = d.search("(objectClass=user)", attributes=attrs)
    for a in attrs[:-1]:
        assert str(df[a].dtype) == "datetime64[us, UTC]", a
        assert df.attrs["ldapnb"]["attributes"][a]["typed_by"] == "AD FILETIME"
    assert str(df["userAccountControl"].dtype) == "Int64"
    raw = {e.dn: e for e in d.entries("(objectClass=user)", attributes=attrs)}
    for row in df.itertuples():
        for a in ("pwdLastSet", "lastLogonTimestamp", "accountExpires"):
            value = raw[row.dn].first(a)
            want = None if value is None else ad.filetime_to_datetime(value)
            got = getattr(row, a)
            assert (got is pd.NaT and want is None) or got == want, (row.dn, a, value, got)
    assert df["accountExpires"].isna().sum() > 400       # 0x7FFFFFFFFFFFFFFF: never expires
    # the same from literal values, 0 and "never" included, with and without a schema
    entries = [Entry("cn=a,dc=x", {"pwdLastSet": ["0"], "accountExpires": ["9223372036854775807"],
                                   "lastLogonTimestamp": ["133000000000000000"]}),
               Entry("cn=b,dc=x", {"pwdLastSet": ["116444736000000000"]})]
    for schema in (None, Directory.embedded("contoso").schema):
        f = to_frame(entries, schema=schema)
        assert f["pwdLastSet"].isna().tolist() == [True, False]
        assert f.loc[1, "pwdLastSet"] == pd.Timestamp("1970-01-01", tz="UTC")
        assert f["accountExpires"].isna().all()
        assert f.loc[0, "lastLogonTimestamp"] == pd.Timestamp("2022-06-18 04:26:40", tz="UTC")
    # decode_frame takes the typed frame as it comes
    out = ad.decode_frame(df)
    assert (out["pwd_last_set"].dropna() == df["pwdLastSet"].dropna()).all()
