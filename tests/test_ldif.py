"""Tests for ldapnb.ldif: the OpenLDAP corpus, hand-written bad inputs, round trips."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldapnb.entry import Entry
from ldapnb.errors import LdapnbError, LdifError
from ldapnb.ldif import (
    Modification,
    Record,
    dumps,
    loads,
    loads_records,
    read_entries,
    read_records,
    write,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "openldap"


# ------------------------------------------------------------------------------------------
# the OpenLDAP test-suite corpus
# ------------------------------------------------------------------------------------------

# records per file (content records, change records), counted by reading the files
CORPUS_COUNTS = {
    "memberof.out": (69, 0),
    "nis_sample.ldif": (1265, 0),
    "referrals.ldif": (5, 0),
    "test-dn.ldif": (35, 0),
    "test-lang.ldif": (1, 0),
    "test-modify.ldif": (0, 8),
    "test-ordered.ldif": (19, 0),
    "test-refint.ldif": (9, 0),
    "test.ldif": (19, 0),
}


def test_corpus_holds_the_files_counted_here():
    found = {p.name for p in CORPUS.glob("*.ldif")} | {"memberof.out"}
    assert found == set(CORPUS_COUNTS)


@pytest.mark.parametrize("filename", sorted(CORPUS_COUNTS))
def test_corpus_file_reads_with_expected_record_counts(filename):
    records = list(read_records(CORPUS / filename))
    content = sum(r.changetype is None for r in records)
    changes = sum(r.changetype is not None for r in records)
    assert (content, changes) == CORPUS_COUNTS[filename]
    # every record's line really is its dn: line
    lines = (CORPUS / filename).read_text().split("\n")
    assert all(lines[r.line - 1].lower().startswith("dn:") for r in records)


def test_corpus_reads_the_same_from_path_text_file_and_binary_file():
    path = CORPUS / "test.ldif"
    from_path = list(read_entries(path))
    with open(path, encoding="utf-8") as f:
        from_text = list(read_entries(f))
    with open(path, "rb") as f:
        from_binary = list(read_entries(f))
    assert from_path == from_text == from_binary
    assert len(from_path) == 19


def _entries_by_dn(filename):
    return {e.dn: e for e in read_entries(CORPUS / filename)}


def test_test_ldif_folded_values_come_back_joined():
    entries = _entries_by_dn("test.ldif")
    all_staff = entries["cn=All Staff,ou=Groups,dc=example,dc=com"]
    members = all_staff["member"]
    assert len(members) == 11
    # lines 5-6, 8-9, 12-13 and 17-18 of test.ldif are folded inside the value
    assert members[1] == (
        "cn=Barbara Jensen,ou=Information Technology Division,ou=People,dc=example,dc=com"
    )
    assert members[3] == (
        "cn=John Doe,ou=Information Technology Division,ou=People,dc=example,dc=com"
    )
    assert members[6] == (
        "cn=James A Jones 2,ou=Information Technology Division,ou=People,dc=example,dc=com"
    )
    assert members[10] == (
        "cn=Bjorn Jensen,ou=Information Technology Division,ou=People,dc=example,dc=com"
    )
    # lines 41-42: the dn itself is folded
    barbara = entries[
        "cn=Barbara Jensen,ou=Information Technology Division,ou=People,dc=example,dc=com"
    ]
    # lines 49-50: a folded postalAddress
    assert barbara["postalAddress"] == [
        "ITD Prod Dev & Deployment $ 535 W. William St. Room 4212 $ Anytown, MI 48103-4943"
    ]


def test_test_ldif_base64_values_come_back_exact():
    entries = _entries_by_dn("test.ldif")
    barbara = entries[
        "cn=Barbara Jensen,ou=Information Technology Division,ou=People,dc=example,dc=com"
    ]
    assert barbara["sn"] == [" Jensen "]  # sn:: IEplbnNlbiA=  (leading and trailing space)
    assert barbara["userPassword"] == ["bjensen"]  # userPassword:: YmplbnNlbg==
    bjorn = entries[
        "cn=Bjorn Jensen,ou=Information Technology Division,ou=People,dc=example,dc=com"
    ]
    assert bjorn["userPassword"] == ["bjorn"]  # Ympvcm4=
    manager = entries["cn=Manager,dc=example,dc=com"]
    assert manager["userPassword"] == ["secret"]  # c2VjcmV0
    # lines 122-208 and 209-...: two long base64 values folded over many lines; they decode
    # as (doubly mis-encoded but valid) UTF-8, so they come back as str
    itd = entries["ou=Information Technology Division,ou=People,dc=example,dc=com"]
    first, second = itd["description"]
    assert first.startswith("h\u00c3\u0083\u00c2\u0082\u00c3\u0082\u00c2\u008bEVVP")
    assert first.endswith("0A1Aa1Ak1A")
    assert len(first) == 2620
    assert hashlib.sha256(first.encode()).hexdigest() == (
        "5742cdabb5bf9fd7772149a4b0ee1f0c095e8d7261bb3e160d01d14d279f8e74"
    )
    assert first.encode()[:12] == base64.b64decode("aMODwoPDgsKCw4PCgsOC")[:12]
    assert second.startswith("P^\u00c3\u0083")
    assert len(second) == 1575
    assert hashlib.sha256(second.encode()).hexdigest() == (
        "d2a0922053511d3ab15a63bb6de4140fdbd10289178505e589e07d2d1d917bb3"
    )


def test_corpus_rewrite_keeps_every_value():
    for filename, (content, _) in CORPUS_COUNTS.items():
        if not content:
            continue
        entries = list(read_entries(CORPUS / filename))
        assert loads(dumps(entries)) == entries, filename


def test_test_lang_keeps_attribute_options_as_keys():
    [entry] = read_entries(CORPUS / "test-lang.ldif")
    assert entry["o;lang-zz;lang-y;lang-yy;lang-xx;lang-x;lang-z"] == ["Example, Inc."]
    assert entry["name;lang-en-US"] == ["Billy Ray", "Billy Bob"]
    assert entry["sn;lang-en-us;lang-en-gb"] == ["Billy Ray"]
    assert entry["SN"] == ["Ray"]
    assert entry.name_of("cn;lang-en-us") == "CN;lang-en-US"


def test_test_dn_keeps_an_empty_value_with_trailing_space_after_colon():
    entries = _entries_by_dn("test-dn.ldif")
    group = entries["cn=Must Succeed,ou=LDAPv3,dc=example,dc=com"]
    assert group["member"][1] == ""  # 'member: ' on line 17


MODIFY_DN_1 = "cn=James A Jones 1,ou=Alumni Association,ou=People,dc=example,dc=com"
ITD = "ou=Information Technology Division,ou=People,dc=example,dc=com"


def test_test_modify_change_records():
    records = list(read_records(CORPUS / "test-modify.ldif"))
    assert [(r.changetype, r.line) for r in records] == [
        ("modify", 5), ("modify", 23), ("modify", 34), ("modify", 58),
        ("add", 77), ("delete", 95), ("modify", 99), ("modify", 107),
    ]
    assert records[0] == Record(
        dn=MODIFY_DN_1,
        line=5,
        changetype="modify",
        entry=None,
        modifications=[
            Modification("add", "drink", ["Pils"]),
            Modification("add", "drink", ["Orange Juice"]),
            Modification("delete", "drink", ["Pils"]),
            Modification("delete", "sn", ["Jones"]),
            Modification("add", "sn", ["Jones"]),
        ],
    )
    # a folded comment between changetype and the first group is skipped
    assert records[1].dn == "cn=Bjorn Jensen," + ITD
    assert records[1].modifications == [
        Modification("replace", "description",
                     ["The replaced multiLineDescription $ Blah Woof."]),
        Modification("replace", "drink", ["Iced Tea", "Mad Dog 20/20"]),
    ]
    # folded DN values inside a modify group
    assert records[2].modifications == [
        Modification("delete", "uniquemember", [
            "cn=James A Jones 2," + ITD,
            "cn=Bjorn Jensen," + ITD,
        ]),
        Modification("add", "uniquemember", [
            "cn=Dorothy Stevens,ou=Alumni Association,ou=People,dc=example,dc=com",
            "cn=James A Jones 1,ou=Alumni Association,ou=People,dc=example,dc=com",
        ]),
        Modification("add", "objectClass",
                     ["OpenLDAPdisplayableObject", "pkiUser", "userSecurityInformation"]),
        Modification("delete", "objectClass",
                     ["userSecurityInformation", "pkiUser", "OpenLDAPdisplayableObject"]),
    ]
    # delete: with no values removes the attribute
    assert records[3].modifications[0] == Modification("delete", "member", [])
    assert records[3].modifications[2] == Modification("delete", "description", [])
    add = records[4]
    assert add.entry is not None and add.entry.dn == add.dn == "cn=Gern Jensen," + ITD
    assert add.entry["testTime"] == ["20050304001801.234Z"]
    assert len(add.entry) == 15
    assert records[5].entry is None and records[5].modifications == []
    assert records[6].modifications == [
        Modification("increment", "uidNumber", ["1"]),
        Modification("increment", "gidNumber", ["-1"]),
    ]
    assert records[7] == Record("dc=example,dc=com", 107, "modify", None, [])


def test_read_entries_refuses_change_records_naming_the_line():
    with pytest.raises(LdifError) as info:
        list(read_entries(CORPUS / "test-modify.ldif"))
    assert info.value.line == 5
    assert info.value.source == str(CORPUS / "test-modify.ldif")
    assert "this file holds change records (changetype: modify); apply them with " \
        "Directory.apply_ldif" in str(info.value)


# ------------------------------------------------------------------------------------------
# reader details
# ------------------------------------------------------------------------------------------


def test_crlf_blank_lines_no_trailing_newline_and_version():
    text = "version: 1\r\n\r\n\r\n# c\r\ndn: cn=a\r\ncn: a\r\n\r\n\r\n\r\ndn: cn=b\r\ncn: b"
    entries = loads(text)
    assert [(e.dn, e["cn"]) for e in entries] == [("cn=a", ["a"]), ("cn=b", ["b"])]
    assert [r.line for r in loads_records(text)] == [5, 10]


def test_version_line_in_the_same_block_as_the_first_record():
    assert loads("version: 1\ndn: cn=a\ncn: a\n")[0]["cn"] == ["a"]


def test_folding_in_dn_comment_and_base64():
    text = (
        "# a comment that is\n"
        " folded\n"
        "dn: cn=Fo\n"
        " lded,dc=org\n"
        "description:: IExl\n"
        " YWRpbmc=\n"
        "cn: a\n"
        "  b\n"
    )
    [e] = loads(text)
    assert e.dn == "cn=Folded,dc=org"
    assert e["description"] == [" Leading"]
    assert e["cn"] == ["a b"]


def test_empty_values_plain_and_base64_and_bytes():
    [e] = loads("dn: cn=g\nmember:\nmember::\nmember: \njpegPhoto:: /9j/\n")
    assert e["member"] == ["", "", ""]
    assert e["jpegPhoto"] == [b"\xff\xd8\xff"]


def test_spaces_after_the_colon_are_dropped_and_none_needed():
    [e] = loads("dn:   cn=x\ncn:    spaced  out \nsn:tight\nmail::   eEB5\n")
    assert e.dn == "cn=x"
    assert e["cn"] == ["spaced  out "]
    assert e["sn"] == ["tight"]
    assert e["mail"] == ["x@y"]


def test_empty_dn_and_values_with_colons_kept():
    [e] = loads("dn:\nlabeledURI: http://x.org/a:b \n")
    assert e.dn == ""
    assert e["labeledURI"] == ["http://x.org/a:b "]


def test_binary_source_and_bom():
    [e] = loads("\ufeffdn: cn=\u00e9\ncn: \u00e9\n".encode())
    assert e.dn == "cn=\u00e9" and e["cn"] == ["\u00e9"]


def test_controls_and_modrdn():
    text = (
        "dn: cn=a,dc=org\n"
        "control: 1.2.840.113556.1.4.805 true\n"
        "control: 1.2.3.4 false:: AAE=\n"
        "control: 1.2.3.5: text\n"
        "changetype: modrdn\n"
        "newrdn: cn=b\n"
        "deleteoldrdn: 1\n"
        "newsuperior: ou=x,dc=org\n"
        "\n"
        "dn: cn=c,dc=org\n"
        "changetype: moddn\n"
        "newrdn:: Y249ZA==\n"
        "deleteoldrdn: 0\n"
    )
    first, second = loads_records(text)
    assert first.controls == [
        ("1.2.840.113556.1.4.805", True, None),
        ("1.2.3.4", False, b"\x00\x01"),
        ("1.2.3.5", False, b"text"),
    ]
    assert (first.changetype, first.newrdn, first.deleteoldrdn, first.newsuperior) == (
        "modrdn", "cn=b", True, "ou=x,dc=org")
    assert (second.changetype, second.newrdn, second.deleteoldrdn, second.newsuperior) == (
        "moddn", "cn=d", False, None)
    assert list(loads_records(dumps([first, second]))) == [
        Record(**{**vars(first), "line": 3}),
        Record(**{**vars(second), "line": 12}),
    ]


def test_change_records_round_trip_through_dumps():
    records = list(read_records(CORPUS / "test-modify.ldif"))
    again = list(loads_records(dumps(records)))
    strip = [(r.dn, r.changetype, r.entry, r.modifications) for r in records]
    assert [(r.dn, r.changetype, r.entry, r.modifications) for r in again] == strip


def test_read_records_streams_without_reading_everything():
    class Counting(io.StringIO):
        reads = 0

        def read(self, size=-1):
            Counting.reads += 1
            return super().read(size)

    text = "".join(f"dn: cn={i}\ncn: {i}\n\n" for i in range(200_000))  # ~3.6 MB
    stream = Counting(text)
    it = read_records(stream)
    assert next(it).dn == "cn=0"
    assert Counting.reads == 1  # one chunk read, not the whole file
    assert sum(1 for _ in it) == 199_999


# ------------------------------------------------------------------------------------------
# bad inputs: each must raise LdifError naming the right line
# ------------------------------------------------------------------------------------------

BAD = [
    # (text, line, words the message must contain)
    ("cn: x\ndn: cn=x\n", 1, "expected a 'dn:' line"),
    ("dn: cn=x\ncn: a\nno colon here\n", 3, "has no ':'"),
    ("dn: cn=x\njpegPhoto:: ab$d\n", 2, "bad base64"),
    ("dn: cn=x\n\ndn: cn=y\nsn:: QQ\n", 4, "bad base64"),
    ("dn: cn=x\nc_n: a\n", 2, "illegal attribute name"),
    ("dn: cn=x\ncn x: a\n", 2, "illegal attribute name"),
    ("dn: cn=x\nchangetype: modify\nadd: cn\ncn: a\nsn: b\n-\n", 5, "group"),
    ("dn: cn=x\nchangetype: modrdn\nnewrdn: cn=y\ndeleteoldrdn: yes\n", 4, "0 or 1"),
    (b"dn: cn=x\ncn: ok\nsn: \xff\xfe\n", 3, "UTF-8"),
    ("dn: cn=x\nchangetype: rename\n", 2, "unknown changetype"),
    ("dn: cn=a\n\n continued\n", 3, "continuation line"),
    (" continued\ndn: cn=a\n", 1, "continuation line"),
    ("version: 2\ndn: cn=a\n", 1, "version"),
    ("dn: cn=x\njpegPhoto:< file:///etc/passwd\n", 2,
     "URL values (:<) are not loaded, for safety"),
    ("dn: cn=x\nchangetype: modify\nfrob: cn\n", 3, "expected 'add:'"),
    ("dn: cn=x\nchangetype: delete\ncn: x\n", 3, "nothing after"),
    ("dn: cn=x\ncontrol: 1.2.3 true\ncn: x\n", 3, "changetype"),
    ("dn: cn=x\ncontrol: not-an-oid\nchangetype: delete\n", 2, "OID"),
    ("dn: cn=x\ncontrol: 1.2.3 maybe\nchangetype: delete\n", 2, "'true' or 'false'"),
    ("dn: cn=x\ncn: a\ndn: cn=y\n", 3, "start of a record"),
    ("dn: cn=x\ncn: a\nchangetype: add\n", 3, "start of a record"),
    ("dn: cn=x\nchangetype: modrdn\ndeleteoldrdn: 1\n", 1, "newrdn"),
    ("dn: cn=x\nchangetype: moddn\nnewrdn: cn=y\n", 1, "deleteoldrdn"),
    ("dn: cn=x\nchangetype: modrdn\nnewrdn: cn=y\ndeleteoldrdn: 1\ncn: z\n", 5, "unexpected"),
    ("dn:: /w==\ncn: x\n", 1, "not UTF-8"),
    ("# one\n# two\n\ndn: cn=x\nchangetype: modify\nadd: cn\ncn:< http://x\n", 7,
     "URL values"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD)
def test_bad_input_raises_ldif_error_with_line(text, line, words):
    with pytest.raises(LdifError) as info:
        list(loads_records(text, name="bad.ldif"))
    err = info.value
    assert err.line == line, str(err)
    assert err.source == "bad.ldif"
    assert words in str(err)
    assert str(err).startswith(f"bad.ldif, line {line}: ")


def test_bad_input_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "people.ldif"
    path.write_bytes(b"dn: cn=x\r\ncn: a\r\n\r\ndn: cn=y\r\nsn:: %%%\r\n")
    with pytest.raises(LdifError) as info:
        list(read_entries(path))
    assert (info.value.source, info.value.line) == (str(path), 5)


def test_invalid_utf8_line_counted_across_chunks(monkeypatch):
    import ldapnb.ldif as mod

    monkeypatch.setattr(mod, "_CHUNK", 7)
    data = b"dn: cn=x\ncn: aaaa\ncn: bbbb\n\ndn: cn=y\nsn: \xc3\xa9\xff\n"
    with pytest.raises(LdifError) as info:
        list(read_records(io.BytesIO(data)))
    assert info.value.line == 6
    # a value folded across chunk boundaries still reads back whole
    [e] = read_entries(io.BytesIO(b"dn: cn=x\r\ncn: a\r\n bc\r\n d\xc3\xa9\r\n"))
    assert e["cn"] == ["abcd\u00e9"]


# ------------------------------------------------------------------------------------------
# writer
# ------------------------------------------------------------------------------------------


def test_dumps_uses_base64_exactly_when_not_safe():
    e = Entry("cn=x", {"v": ["plain", " lead", ":colon", "<lt", "trail ", "caf\u00e9", "a\nb",
                             "tab\there", "", "in:side <ok", b"plain bytes"]})
    lines = dumps([e], version=False).splitlines()
    assert lines == [
        "dn: cn=x",
        "v: plain",
        "v:: IGxlYWQ=",
        "v:: OmNvbG9u",
        "v:: PGx0",
        "v:: dHJhaWwg",
        "v:: Y2Fmw6k=",
        "v:: YQpi",
        "v:: dGFiCWhlcmU=",
        "v:",
        "v: in:side <ok",
        "v:: cGxhaW4gYnl0ZXM=",
    ]


def test_dumps_base64_dn_and_folding():
    e = Entry(" cn=\u00e9", {"description": ["x" * 200]})
    text = dumps([e], width=40, version=False)
    assert text.splitlines()[0] == "dn:: IGNuPcOp"
    assert all(len(line) <= 40 for line in text.splitlines())
    assert text.splitlines()[1] == "description: " + "x" * 27
    assert text.splitlines()[2] == " " + "x" * 39
    assert loads(text) == [e]


def test_dumps_refuses_bad_attribute_names_and_value_types():
    with pytest.raises(LdifError, match="cannot write attribute name"):
        dumps([Entry("cn=x", {"bad name": ["v"]})])
    with pytest.raises(LdifError, match="values must be str or bytes"):
        dumps([Entry("cn=x", {"cn": [3]})])  # type: ignore[list-item]


def test_write_to_path_text_and_binary_files(tmp_path):
    entries = loads("dn: cn=a\ncn: a\n\ndn: cn=b\ncn: b\nphoto:: /w==\n")
    path = tmp_path / "out.ldif"
    assert write(entries, path) == 2
    assert list(read_entries(path)) == entries
    text = io.StringIO()
    assert write(iter(entries), text) == 2
    binary = io.BytesIO()
    assert write(entries, binary) == 2
    assert binary.getvalue().decode() == text.getvalue() == path.read_text()
    assert text.getvalue().startswith("version: 1\n\ndn: cn=a\ncn: a\n\ndn: cn=b\n")


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------

_names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,8}(;[A-Za-z0-9-]{1,6}){0,2}", fullmatch=True)
_names = _names.filter(lambda n: n.lower() not in {"dn", "changetype", "control"})
_oids = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}", fullmatch=True)
_tricky = st.sampled_from([" ", ":", "<", "\n", "\r\n", "#", "-", "\x00", " :", "\u2028"])
_text_values = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, b, c: a + b + c, _tricky, st.text(max_size=20), _tricky),
    st.sampled_from(["", " ", "x ", " x", ":", "<", "a\nb", "\r\n"]),
)
# bytes that are not UTF-8 (UTF-8 bytes come back as str: LDIF has no type marker)
_byte_values = st.builds(lambda a, b: a + b"\xff" + b, st.binary(max_size=10),
                         st.binary(max_size=10))
_entries = st.builds(
    Entry,
    st.one_of(st.text(max_size=30), st.sampled_from(["", " cn=x", "cn=x ", ":x", "<x"])),
    # attribute names are case-insensitive: no two names that differ only in case
    st.lists(
        st.tuples(
            st.one_of(_names, _oids),
            st.lists(st.one_of(_text_values, _byte_values), min_size=1, max_size=4),
        ),
        max_size=5,
        unique_by=lambda pair: pair[0].lower(),
    ).map(dict),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_entries, max_size=4), st.integers(min_value=2, max_value=100), st.booleans())
def test_property_loads_dumps_round_trip(entries, width, version):
    text = dumps(entries, width=width, version=version)
    assert loads(text) == entries
    assert loads(text.replace("\n", "\r\n")) == entries
    assert loads(text.encode()) == entries


_fragments = st.sampled_from([
    "dn: cn=x", "dn:: eA==", "dn:: /w==", "dn:", "version: 1", "version: 3", "cn: a", "cn:: YQ==",
    "cn:: !!", "cn:< file:///x", "cn", ":", "::", " cont", "  ", "#c", "", "", "-",
    "changetype: add", "changetype: delete", "changetype: modify", "changetype: modrdn",
    "changetype: moddn", "changetype: x", "add: cn", "delete: cn", "replace: sn",
    "increment: uidNumber", "newrdn: cn=y", "newrdn:: /w==", "deleteoldrdn: 1",
    "deleteoldrdn: 2", "newsuperior: dc=x", "control: 1.2.3 true", "control: 1.2 true:: AA==",
    "control: x", "control: 1.2.3 false: v", "control: 1.2:< file:///x", "\u00e9: x", "\r",
])


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=200),
    st.lists(_fragments, max_size=25).map("\n".join),
    st.lists(st.one_of(_fragments, st.text(max_size=10)), max_size=15).map("\r\n".join),
))
def test_property_random_text_raises_only_ldif_error(text):
    try:
        records = list(loads_records(text))
    except LdifError as err:
        assert err.line is None or err.line >= 1
        return
    for record in records:
        assert isinstance(record, Record)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_property_random_bytes_raise_only_ldif_error(data):
    try:
        list(loads_records(data))
    except LdapnbError as err:
        assert isinstance(err, LdifError)
