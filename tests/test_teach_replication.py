"""ldapnb.teach.replication: two real slapd with syncrepl, and the embedded simulation.

Every behaviour is checked on both labs (parametrised): a write on the provider reaches the
consumer; while the link is cut it does not; after restore it does; the consumer is read-only.
No skip: without slapd (and its syncprov module) the real lab's tests fail, saying why.
"""

from __future__ import annotations

import time

import pytest

from ldapnb.errors import LdapnbError, LimitExceeded, NoSuchEntry, OperationError
from ldapnb.teach.replication import (
    EmbeddedReplicationLab,
    ReplicationLab,
    replication_lab,
    slapd_can_replicate,
)

PEOPLE = "ou=People,dc=example,dc=com"
BOB = f"uid=bob,{PEOPLE}"


@pytest.fixture(scope="module")
def real_lab():
    with ReplicationLab("tiny") as lab:
        yield lab


@pytest.fixture(params=["slapd", "embedded"])
def lab(request, real_lab):
    if request.param == "slapd":
        real_lab.restore()  # whatever an earlier test did
        yield real_lab
        real_lab.restore()
    else:
        with EmbeddedReplicationLab("tiny", latency=0.05) as sim:
            yield sim


def test_slapd_can_replicate_here():
    ok, why = slapd_can_replicate()
    assert ok, why


def test_the_consumer_starts_with_the_providers_data(lab):
    csn = lab.context_csn()
    assert csn["provider"] is not None and csn["provider"] == csn["consumer"]
    status = lab.status()
    assert list(status.side) == ["provider", "consumer"]
    assert status.entries.tolist() == [11, 11]
    assert lab.read(BOB).first("cn") == "Bob Baker"


def test_a_write_on_the_provider_reaches_the_consumer(lab):
    before = lab.context_csn()["consumer"]
    lab.write(BOB, {"title": "Head of IT", "roomNumber": ["7", "8"]})
    assert lab.read(BOB, "provider").first("title") == "Head of IT"
    seconds = lab.wait_until_replicated(BOB, timeout=10)
    assert seconds >= 0
    copy = lab.read(BOB)
    assert copy.first("title") == "Head of IT" and sorted(copy["roomNumber"]) == ["7", "8"]
    csn = lab.context_csn()
    assert csn["consumer"] == csn["provider"] and csn["consumer"] > before
    assert lab.entry_csn(BOB, "consumer") == lab.entry_csn(BOB, "provider")


def test_cut_write_restore(lab):
    lab.cut()
    assert not lab.link_up
    lab.write(BOB, {"title": "Written while cut"})
    time.sleep(0.3)
    assert lab.read(BOB).first("title") != "Written while cut"
    assert not lab.replicated(BOB)
    with pytest.raises(LimitExceeded, match="the link is cut") as info:
        lab.wait_until_replicated(BOB, timeout=0.3)
    assert info.value.kind == "time"
    csn = lab.context_csn()
    assert csn["consumer"] < csn["provider"]
    lab.restore()
    assert lab.link_up
    lab.wait_until_replicated(BOB, timeout=10)
    assert lab.read(BOB).first("title") == "Written while cut"


def test_adds_and_deletes_replicate(lab):
    dn = f"uid=zoe,{PEOPLE}"
    lab.add(dn, {"objectClass": ["inetOrgPerson"], "uid": "zoe", "cn": "Zoe Zed", "sn": "Zed"})
    lab.wait_until_replicated(dn, timeout=10)
    assert lab.read(dn).first("cn") == "Zoe Zed"
    lab.delete(dn)
    lab.wait_until_replicated(dn, timeout=10)
    assert lab.read(dn) is None and lab.read(dn, "provider") is None


def test_the_consumer_is_read_only(lab):
    from ldap3 import MODIFY_REPLACE

    assert not lab.consumer.modify(BOB, {"title": [(MODIFY_REPLACE, ["nope"])]})
    assert lab.consumer.result["description"] == "unwillingToPerform"
    assert "shadow context" in lab.consumer.result["message"]


def test_bad_writes_and_sides(lab):
    with pytest.raises(NoSuchEntry):
        lab.write(f"uid=nobody,{PEOPLE}", {"title": "x"})
    with pytest.raises(OperationError):
        lab.add(BOB, {"objectClass": ["inetOrgPerson"], "uid": "bob", "cn": "B", "sn": "B"})
    with pytest.raises(LdapnbError, match="side must be"):
        lab.read(BOB, "replica")
    with pytest.raises(LdapnbError):
        lab.write(BOB, {})


def test_replication_lab_picks_and_says(capsys):
    with replication_lab("tiny", prefer="embedded", latency=0) as sim:
        assert sim.kind == "embedded"
    assert "simulation" in capsys.readouterr().out
    with pytest.raises(LdapnbError):
        replication_lab("tiny", prefer="cloud")


def test_replication_lab_uses_slapd_when_present(capsys):
    with replication_lab("tiny", retry=1) as lab:
        assert isinstance(lab, ReplicationLab) and lab.kind == "slapd"
        assert lab.link is not None and lab.link.records  # the syncrepl traffic crossed it
    assert "real OpenLDAP slapd" in capsys.readouterr().out


def test_embedded_changelog_and_latency():
    sim = EmbeddedReplicationLab("tiny", latency=60)
    sim.write(BOB, {"title": "Later"})
    assert [r["kind"] for r in sim.changelog] == ["modify"]
    assert not sim.changelog[0]["delivered"]
    assert sim.read(BOB).first("title") == "System Administrator"  # 60 s not yet passed
    sim.latency = 0
    assert sim.read(BOB).first("title") == "Later" and sim.changelog[0]["delivered"]
    csn = sim.changelog[0]["csn"]
    assert csn.endswith("#000#000000") and len(csn) == 40


def test_consumer_len_and_contains_are_never_stale():
    sim = EmbeddedReplicationLab("tiny", latency=0)
    consumer = sim.consumer_directory
    before = len(consumer)
    new = f"uid=zed,{PEOPLE}"
    sim.provider_directory.add(new, {"objectClass": ["inetOrgPerson"], "uid": "zed",
                                     "cn": "Zed", "sn": "Z"})
    # no get() first: len and `in` alone must see the replicated entry
    assert new in consumer
    assert len(consumer) == before + 1
    sim.provider_directory.delete(new)
    assert new not in consumer and len(consumer) == before


def test_consumer_refuses_writes_through_directory_too():
    sim = EmbeddedReplicationLab("tiny", latency=0)
    with pytest.raises(OperationError, match="read-only replica"):
        sim.consumer_directory.modify(BOB, [("replace", "title", "x")])
    with pytest.raises(OperationError, match="read-only replica"):
        sim.consumer_directory.delete(BOB)


def test_replication_lab_refuses_unknown_options():
    with pytest.raises(TypeError, match="latancy"):
        replication_lab("tiny", prefer="embedded", announce=False, latancy=0)  # type: ignore[call-arg]
