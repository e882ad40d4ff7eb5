"""Snapshots: exact round trips (LDIF and Parquet), atomic writes, secrets left out."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldapnb import Directory, Entry, LdapnbError, ldif, snapshot
from ldapnb.directory import fixture_path

FORMATS = ["ldif", "parquet"]


def _all(d: Directory) -> list[Entry]:
    return list(d.entries(base=""))


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fixture", ["contoso", "example", "tiny"])
def test_directory_round_trip_is_exact(tmp_path, fixture, fmt):
    entries = _all(Directory.embedded(fixture))
    path = tmp_path / f"snap.{fmt}"
    info = snapshot.write(entries, path, include_secrets=True, progress=False)
    back = list(snapshot.read(path))
    assert info["entries"] == len(entries) == len(back)
    assert back == entries  # every DN, attribute and value, in order
    for mine, theirs in zip(entries, back, strict=True):
        for name, values in mine.items():
            assert [type(v) for v in theirs[name]] == [type(v) for v in values], (mine.dn, name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_binary_values_come_back_as_bytes(tmp_path, fmt):
    path = tmp_path / f"c.{fmt}"
    snapshot.write(Directory.embedded("contoso"), path, progress=False)
    back = {e.dn: e for e in snapshot.read(path)}
    builtin = back["CN=Administrators,CN=Builtin,DC=contoso,DC=com"]
    # S-1-5-32-544 is all ASCII bytes: it must still come back as bytes, not text
    assert builtin["objectSid"] == [b"\x01\x02\x00\x00\x00\x00\x00\x05 \x00\x00\x00 \x02\x00\x00"]
    assert isinstance(builtin["objectGUID"][0], bytes) and len(builtin["objectGUID"][0]) == 16


@pytest.mark.parametrize("fmt", FORMATS)
def test_raw_ldif_entries_round_trip_even_with_mixed_types(tmp_path, fmt):
    # Straight from LDIF (no schema): some objectSid values read as str, others as bytes.
    raw = list(ldif.read_entries(fixture_path("contoso")))
    kinds = {type(v) for e in raw for v in e.get("objectSid", [])}
    assert kinds == {str, bytes}
    path = tmp_path / f"raw.{fmt}"
    snapshot.write(raw, path, include_secrets=True, progress=False)
    assert list(snapshot.read(path)) == raw


def test_mixed_column_keeps_each_value_type_in_parquet(tmp_path):
    entries = [Entry("cn=a,dc=x", {"cn": ["a"], "description": [b"caf\xc3\xa9", "text"]}),
               Entry("cn=b,dc=x", {"cn": ["b"], "description": ["only text"]}),
               Entry("cn=c,dc=x", {"cn": ["c"], "CN;lang-fr": ["cé"], "seeAlso": []})]
    path = tmp_path / "mixed.parquet"
    snapshot.write(entries, path, progress=False)
    back = list(snapshot.read(path))
    assert back == entries
    assert back[0]["description"] == [b"caf\xc3\xa9", "text"]  # UTF-8 bytes stay bytes
    assert back[2]["seeAlso"] == [] and "description" not in back[2]
    table = pq.read_table(path)
    assert "__text__description" in table.column_names
    assert str(table.schema.field("cn").type) == "list<element: string>"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(
    st.dictionaries(
        st.sampled_from(["cn", "description", "jpegPhoto", "cn;lang-en", "seeAlso"]),
        st.lists(st.one_of(st.text(max_size=8), st.binary(max_size=8)), max_size=3),
        max_size=4),
    max_size=6))
def test_parquet_round_trip_property(tmp_path, rows):
    entries = [Entry(f"cn=e{i},dc=x", attrs) for i, attrs in enumerate(rows)]
    path = tmp_path / "p.parquet"
    snapshot.write(entries, path, progress=False)
    assert list(snapshot.read(path)) == entries


def test_many_batches_with_columns_appearing_late(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "_BATCH", 3)  # several spilled batches
    entries = [Entry(f"cn=e{i},dc=x", {"cn": [f"e{i}"]}) for i in range(7)]
    entries[5].add("jpegPhoto", [b"\xff\xd8"])
    entries[6].add("jpegPhoto", ["not bytes"])
    path = tmp_path / "late.parquet"
    snapshot.write(entries, path, progress=False)
    assert list(snapshot.read(path)) == entries
    assert pq.ParquetFile(path).metadata.num_rows == 7


# -- readable by others as is -------------------------------------------------------------------


def test_parquet_is_readable_by_pandas_pyarrow_and_duckdb(tmp_path):
    import duckdb
    import pandas as pd

    path = tmp_path / "contoso.parquet"
    snapshot.write(Directory.embedded("contoso"), path, progress=False)
    df = pd.read_parquet(path)
    assert len(df) == 511 and df.columns[0] == "dn"
    admin = df[df.dn == "CN=Administrator,CN=Users,DC=contoso,DC=com"].iloc[0]
    assert list(admin["sAMAccountName"]) == ["Administrator"]
    table = pq.read_table(path)
    assert str(table.schema.field("objectSid").type) == "list<element: binary>"
    [(count,)] = duckdb.sql(
        f"SELECT count(*) FROM '{path}' WHERE list_contains(objectClass, 'group')").fetchall()
    assert count == len(list(
        Directory.embedded("contoso").entries("(objectClass=group)")))


def test_metadata_says_where_when_and_what(tmp_path):
    for fmt in FORMATS:
        path = tmp_path / f"m.{fmt}"
        info = snapshot.write(Directory.embedded("example"), path, filter="(objectClass=person)",
                              attributes=["cn", "mail", "userPassword"], progress=False)
        meta = snapshot.metadata(path)
        assert meta["format"] == fmt
        assert meta["source"] == "embedded 'example'"
        assert meta["filter"] == "(objectClass=person)"
        assert meta["base"] == "dc=example,dc=org"
        assert meta["attributes"] == ["cn", "mail", "userPassword"]
        assert meta["ldapnb_version"] and meta["created"].startswith("20")
        assert meta["entries"] == info["entries"] > 0


def test_plain_ldif_reads_without_metadata(tmp_path):
    path = tmp_path / "plain.ldif"
    path.write_text("dn: dc=x\nobjectClass: domain\ndc: x\n", encoding="utf-8")
    assert [e.dn for e in snapshot.read(path)] == ["dc=x"]
    assert snapshot.metadata(path) == {"format": "ldif"}


def test_ldif_snapshot_has_no_version_line_for_slapadd(tmp_path):
    path = tmp_path / "t.ldif"
    snapshot.write(Directory.embedded("tiny"), path, progress=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ldapnb-snapshot: ")
    assert not any(line.startswith("version:") for line in lines)
    assert lines[-1].startswith("# ldapnb-snapshot-end: ")


def test_from_entries_of_a_snapshot_is_a_directory(tmp_path):
    path = tmp_path / "c.parquet"
    snapshot.write(Directory.embedded("contoso"), path, progress=False)
    d = Directory.from_entries(snapshot.read(path), strict=False)
    assert len(d) == 511
    assert len(d.search("(objectClass=group)")) == len(
        Directory.embedded("contoso").search("(objectClass=group)"))


# -- secrets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_secrets_left_out_by_default(tmp_path, fmt):
    d = Directory.embedded("example")
    assert any("userPassword" in e for e in d.entries())
    path = tmp_path / f"s.{fmt}"
    snapshot.write(d, path, progress=False)
    assert not any("userPassword" in e for e in snapshot.read(path))
    assert b"userPassword:" not in path.read_bytes()
    meta = snapshot.metadata(path)
    assert meta["secrets"] == {"included": False, "dropped": ["userPassword"]}
    assert os.stat(path).st_mode & 0o077 != 0o077  # ordinary permissions (umask)


@pytest.mark.parametrize("fmt", FORMATS)
def test_secrets_only_when_asked_and_owner_only(tmp_path, fmt):
    d = Directory.embedded("example")
    path = tmp_path / f"s.{fmt}"
    snapshot.write(d, path, include_secrets=True, progress=False)
    with_pw = [e for e in snapshot.read(path) if "userPassword" in e]
    assert len(with_pw) == sum(1 for e in d.entries() if "userPassword" in e)
    assert snapshot.metadata(path)["secrets"]["included"] is True
    assert os.stat(path).st_mode & 0o077 == 0  # readable by its owner only


def test_original_entries_untouched_when_secrets_dropped(tmp_path):
    e = Entry("cn=a,dc=x", {"cn": ["a"], "userPassword": ["{SSHA}x"]})
    snapshot.write([e], tmp_path / "a.ldif", progress=False)
    assert e["userPassword"] == ["{SSHA}x"]


# -- atomic -------------------------------------------------------------------------------------


def _failing(entries: list[Entry], after: int, exc: BaseException):
    for i, e in enumerate(entries):
        if i == after:
            raise exc
        yield e


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("server went away")])
def test_interrupted_snapshot_leaves_nothing(tmp_path, monkeypatch, fmt, exc):
    monkeypatch.setattr(snapshot, "_BATCH", 50)  # Parquet spills before the failure
    entries = _all(Directory.embedded("example"))
    path = tmp_path / f"snap.{fmt}"
    with pytest.raises(type(exc)):
        snapshot.write(_failing(entries, 120, exc), path, progress=False)
    assert list(tmp_path.iterdir()) == []  # no final file, no temp file, no spill folder


@pytest.mark.parametrize("fmt", FORMATS)
def test_interrupted_snapshot_keeps_the_previous_file(tmp_path, fmt):
    path = tmp_path / f"snap.{fmt}"
    snapshot.write(Directory.embedded("tiny"), path, progress=False)
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        snapshot.write(_failing(_all(Directory.embedded("example")), 10, KeyboardInterrupt()),
                       path, progress=False)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    snapshot.write(Directory.embedded("tiny"), tmp_path / "t.ldif", progress=True)
    err = capsys.readouterr().err
    assert "snapshot t.ldif" in err and "11/11" in err


# -- bad input ------------------------------------------------------------------------------------


def test_unknown_extension_missing_folder_and_missing_file(tmp_path):
    with pytest.raises(LdapnbError, match=r"\*\.ldif or \*\.parquet"):
        snapshot.write([], tmp_path / "x.csv", progress=False)
    with pytest.raises(LdapnbError, match="no folder"):
        snapshot.write([], tmp_path / "nope" / "x.ldif", progress=False)
    with pytest.raises(LdapnbError, match="no snapshot file"):
        snapshot.read(tmp_path / "missing.parquet")


def test_damaged_parquet_is_an_ldapnb_error(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(LdapnbError, match="not a readable Parquet file"):
        list(snapshot.read(path))


def test_filter_with_plain_entries_is_refused(tmp_path):
    with pytest.raises(ValueError, match="plain entries"):
        snapshot.write([], Path(tmp_path) / "x.ldif", filter="(cn=a)", progress=False)


def test_empty_snapshot_round_trips(tmp_path):
    for fmt in FORMATS:
        path = tmp_path / f"empty.{fmt}"
        assert snapshot.write([], path, progress=False)["entries"] == 0
        assert list(snapshot.read(path)) == []
