"""The embedded directory's substring index finds exactly what a scan finds.

The index (trigrams of the values' keys, made by each attribute's SUBSTR matching rule) only
narrows the entries the filter is then evaluated on: for every bundled fixture and many
patterns cut from its own values, the indexed answer equals a scan's, before and after writes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ldapnb import filters as flt
from ldapnb.entry import Entry
from ldapnb.ldif import read_entries
from ldapnb.sources.embedded import Change, EmbeddedDirectory

FIXTURES = Path(__file__).resolve().parents[1] / "ldapnb" / "fixtures"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.ldif"))


def _escape(text: str) -> str:
    return "".join(f"\\{ord(c):02x}" if c in "*()\\\x00" else c for c in text)


def _patterns(d: EmbeddedDirectory, rng: random.Random) -> list[str]:
    out = []
    for ndn in list(d._store.entries)[:200]:
        entry = d._store.entries[ndn]
        for name, values in entry.items():
            for v in values:
                if not isinstance(v, str) or len(v) < 4:
                    continue
                i = rng.randrange(len(v) - 3)
                piece = v[i:i + rng.randrange(3, min(8, len(v) - i) + 1)]
                head, tail = v[:2], v[-3:]
                out += [f"({name}=*{_escape(piece)}*)",
                        f"({name}=*{_escape(piece.upper())}*)",
                        f"({name}={_escape(head)}*{_escape(piece)}*)",
                        f"({name}=*{_escape(piece)}*{_escape(tail)})",
                        f"(&(objectClass=*)({name}=*{_escape(piece)}*))",
                        f"(|({name}=*{_escape(piece)}*)(cn=*zzzq*))"]
    out += ["(cn=*son*)", "(cn=* son*)", "(cn=*an j*)", "(mail=*@*)", "(cn=*a*b*)",
            "(telephoneNumber=*555*)", "(telephoneNumber=*5-5 5*)", "(cn=*ab*)"]
    rng.shuffle(out)
    return out[:600]


def _scan(d: EmbeddedDirectory, f: str) -> list[str]:
    parsed = flt.parse(f)
    return [n for n in d._store.subtree("")
            if flt.evaluate(parsed, d._store.entries[n], d._ctx) is True]


@pytest.mark.parametrize("name", NAMES)
def test_indexed_substring_answers_equal_a_scan(name: str) -> None:
    d = EmbeddedDirectory(lenient=True)
    d.load(read_entries(FIXTURES / f"{name}.ldif"))
    rng = random.Random(name)
    patterns = _patterns(d, rng)
    assert len(patterns) > 50
    used = 0
    for f in patterns:
        try:
            want = _scan(d, f)
        except Exception:  # noqa: BLE001 - a pattern the parser refuses: not this test's job
            continue
        got = d.search_dns("", "sub", f)
        assert sorted(got) == sorted(want), f  # indexed answers come in order of addition
        used += bool(want)
    assert used > 20  # the patterns come from the data: most find something
    assert d._indexes.sub  # and the index was used


def test_substring_index_follows_writes() -> None:
    d = EmbeddedDirectory()
    d.add(Entry("dc=example,dc=org", {"objectClass": ["domain"], "dc": ["example"]}))
    d.add(Entry("cn=Ann Jensen,dc=example,dc=org",
                {"objectClass": ["person"], "cn": ["Ann Jensen"], "sn": ["Jensen"]}))
    assert d.search_dns("", "sub", "(cn=*jens*)") == ["cn=ann jensen,dc=example,dc=org"]
    assert d._indexes.sub
    d.add(Entry("cn=Bo Hansson,dc=example,dc=org",
                {"objectClass": ["person"], "cn": ["Bo Hansson"], "sn": ["Hansson"]}))
    assert d.search_dns("", "sub", "(cn=*son*)") == ["cn=bo hansson,dc=example,dc=org"]
    d.modify("cn=Bo Hansson,dc=example,dc=org", [Change("add", "cn", ["Bo Jensen"])])
    assert len(d.search_dns("", "sub", "(cn=*jens*)")) == 2
    d.modify("cn=Bo Hansson,dc=example,dc=org", [Change("delete", "cn", ["Bo Jensen"])])
    assert len(d.search_dns("", "sub", "(cn=*jens*)")) == 1
    d.modify_dn("cn=Bo Hansson,dc=example,dc=org", "cn=Bo Jensen", delete_old_rdn=True)
    assert d.search_dns("", "sub", "(cn=*jens*)") == [
        "cn=ann jensen,dc=example,dc=org", "cn=bo jensen,dc=example,dc=org"]
    assert d.search_dns("", "sub", "(cn=*hans*)") == []
    d.delete("cn=Ann Jensen,dc=example,dc=org")
    assert d.search_dns("", "sub", "(cn=*jens*)") == ["cn=bo jensen,dc=example,dc=org"]
    # a bulk load after the index exists keeps it up to date as well
    d.load([Entry("cn=Cy Jenssen,dc=example,dc=org",
                  {"objectClass": ["person"], "cn": ["Cy Jenssen"], "sn": ["Jenssen"]})])
    assert len(d.search_dns("", "sub", "(cn=*JENS*)")) == 2
