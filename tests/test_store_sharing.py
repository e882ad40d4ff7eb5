"""Shared value lists never leak a change from one entry into another.

``ldif.read_records(compact=True)`` (what ``Directory.from_ldif`` reads with) gives entries of
one kind one spelling map and one list for each repeated short list of values, and the
embedded store keeps those lists as they are (and one objectClass list per kind of entry).
These tests first show that the sharing happens (else the rest would prove nothing), then
change one entry every way there is (``Entry`` methods, ``Directory.modify``/``rename``,
``apply_ldif``) and check every other entry is as it was; and that a compact read and a plain
one give the same records, and the same directory, on the OpenLDAP corpus and on a generated
LDIF.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from ldapnb import Directory, synthetic
from ldapnb.entry import Entry
from ldapnb.ldif import read_records
from ldapnb.sources.embedded import EmbeddedDirectory

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "openldap"
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.ldif")) + ["memberof.out"]

USER1 = "uid=user000001,ou=Sales,ou=People,dc=example,dc=org"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sharing") / "users.ldif"
    synthetic.write_ldif(path, 60, seed=1)
    return path


def _users(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.dn.startswith("uid=")]


def _state(entries: dict[str, Entry]) -> dict[str, tuple[list[str], dict[str, list[object]]]]:
    """Everything an entry shows: its spellings, in order, and its values (copied)."""
    return {dn: (list(e), e.to_dict()) for dn, e in entries.items()}


# ------------------------------------------------------------------------------------------
# the sharing happens
# ------------------------------------------------------------------------------------------


def test_compact_read_shares_spellings_and_repeated_lists(generated: Path) -> None:
    a, b = _users([r.entry for r in read_records(generated, compact=True) if r.entry])[:2]
    assert a["objectClass"] is b["objectClass"]
    assert a["loginShell"] is b["loginShell"]
    assert a._names is b._names  # one spelling map for the kind
    assert a["uid"] is not b["uid"]
    plain_a, plain_b = _users([r.entry for r in read_records(generated) if r.entry])[:2]
    assert plain_a["objectClass"] is not plain_b["objectClass"]
    assert (a, b) == (plain_a, plain_b)


def test_compact_pool_is_capped_per_attribute() -> None:
    # 600 distinct descriptions fill the pool (512); a value repeated after that is not
    # pooled any more, one repeated before it is
    head = "".join(f"dn: cn=s{i},dc=x\ncn: s{i}\ndescription: same-early\n\n" for i in range(2))
    middle = "".join(f"dn: cn=u{i},dc=x\ncn: u{i}\ndescription: d{i}\n\n" for i in range(600))
    tail = "".join(f"dn: cn=t{i},dc=x\ncn: t{i}\ndescription: same-late\n\n" for i in range(2))
    entries = [r.entry for r in read_records(io.StringIO(head + middle + tail), compact=True)]
    early, late = entries[:2], entries[-2:]
    assert early[0]["description"] is early[1]["description"]
    assert late[0]["description"] is not late[1]["description"]
    assert late[0]["description"] == late[1]["description"] == ["same-late"]


def test_the_store_shares_lists_between_entries(generated: Path) -> None:
    d = Directory.from_ldif(generated)
    stored = _users(list(d.source._store.entries.values()))
    assert len(stored) == 60
    assert stored[0]["objectClass"] is stored[1]["objectClass"]
    assert stored[0]["loginShell"] is stored[1]["loginShell"]


# ------------------------------------------------------------------------------------------
# a change to one entry stays in that entry
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["add", "add-new", "set", "remove", "add-str"])
def test_entry_methods_never_change_a_shared_list(generated: Path, change: str) -> None:
    entries = {r.entry.dn: r.entry for r in read_records(generated, compact=True) if r.entry}
    users = _users(list(entries.values()))
    one, others = users[0], {e.dn: e for e in users[1:]}
    assert one["objectClass"] is users[1]["objectClass"]
    before = _state(others)
    if change == "add":
        one.add("objectClass", ["extensibleObject"])
        assert one["objectClass"][-1] == "extensibleObject"
    elif change == "add-new":
        one.add("description", ["only one"])
        assert "description" in one
    elif change == "set":
        one.set("loginShell", ["/bin/zsh"])
        assert one["loginShell"] == ["/bin/zsh"]
    elif change == "remove":
        one.remove("loginShell")
        assert "loginShell" not in one
    else:
        one.add("loginShell", "/bin/sh")
        assert one["loginShell"] == ["/bin/bash", "/bin/sh"]
    assert _state(others) == before


def _stored(d: Directory) -> dict[str, Entry]:
    return {e.dn: e for e in d.entries()}


@pytest.mark.parametrize("op, attr, values", [
    ("add", "objectClass", ["extensibleObject"]),
    ("add", "description", ["new"]),
    ("replace", "loginShell", ["/bin/zsh"]),
    ("delete", "loginShell", []),
    ("delete", "objectClass", ["posixAccount"]),
])
def test_directory_modify_changes_one_entry(generated: Path, op: str, attr: str,
                                            values: list[str]) -> None:
    d = Directory.from_ldif(generated)
    if op == "delete" and attr == "objectClass":  # posixAccount's attributes go with it
        d.modify(USER1, [("delete", a, []) for a in
                         ("uidNumber", "gidNumber", "homeDirectory", "loginShell")])
    before = _stored(d)
    d.modify(USER1, [(op, attr, values)])
    after = _stored(d)
    changed = after.pop(USER1)
    assert changed != before.pop(USER1)
    assert _state(after) == _state(before)
    assert changed.get(attr, []) != d.get(
        "uid=user000002,ou=Engineering,ou=People,dc=example,dc=org").get(attr, [])


def test_directory_rename_changes_one_entry(generated: Path) -> None:
    d = Directory.from_ldif(generated)
    before = _stored(d)
    new = d.rename(USER1, "uid=renamed")
    after = _stored(d)
    assert after.pop(new)["uid"] == ["renamed"]
    before.pop(USER1)
    # refint points the groups' member values at the new DN: that, and nothing else, moves
    want = _state(before)
    for _names, values in want.values():
        if USER1 in values.get("member", []):
            values["member"] = [new if v == USER1 else v for v in values["member"]]
    assert want != _state(before)
    assert _state(after) == want


def test_apply_ldif_changes_one_entry(generated: Path, tmp_path: Path) -> None:
    d = Directory.from_ldif(generated)
    before = _stored(d)
    changes = tmp_path / "changes.ldif"
    changes.write_text(
        f"dn: {USER1}\nchangetype: modify\nadd: objectClass\nobjectClass: extensibleObject\n"
        "-\nreplace: loginShell\nloginShell: /bin/zsh\n-\nadd: departmentNumber\n"
        "departmentNumber: Extra\n-\n", encoding="utf-8")
    assert d.apply_ldif(changes) == 1
    after = _stored(d)
    changed = after.pop(USER1)
    assert changed["loginShell"] == ["/bin/zsh"]
    assert changed["departmentNumber"] == ["Sales", "Extra"]
    assert "extensibleObject" in changed["objectClass"]
    before.pop(USER1)
    assert _state(after) == _state(before)


# ------------------------------------------------------------------------------------------
# compact or not, the same answer
# ------------------------------------------------------------------------------------------


def _records_shown(path: Path, compact: bool) -> list[tuple[object, ...]]:
    return [(r.dn, r.line, r.changetype, r.modifications, r.newrdn, r.deleteoldrdn,
             r.newsuperior, r.controls,
             None if r.entry is None else (list(r.entry), r.entry.to_dict()))
            for r in read_records(path, compact=compact)]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_compact_read_of_the_corpus_is_the_same(name: str) -> None:
    path = CORPUS / name
    assert _records_shown(path, True) == _records_shown(path, False)


def _plain_load(path: Path) -> EmbeddedDirectory:
    """What from_ldif did before compact reads: plain records, copied by the checker."""
    d = EmbeddedDirectory(None, lenient=True)
    d.load(read_records(path), source=str(path))
    return d


def _directory_shown(d: EmbeddedDirectory) -> tuple[object, ...]:
    entries = [(e.dn, list(e), e.to_dict()) for e in d.search("", "sub", "(objectClass=*)")]
    return entries, d.skipped, list(d.warnings)


@pytest.mark.parametrize("name", [*CORPUS_FILES, "generated"])
def test_from_ldif_is_the_same_as_a_plain_load(name: str, generated: Path) -> None:
    path = generated if name == "generated" else CORPUS / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the corpus's schema problems, said by both loads
        compact = Directory.from_ldif(path).source
    assert isinstance(compact, EmbeddedDirectory)
    assert _directory_shown(compact) == _directory_shown(_plain_load(path))
