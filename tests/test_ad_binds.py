"""Issue 13 part 3: the binds AD users use (UPN and down-level) on the embedded directory."""

from __future__ import annotations

import pytest

from ldapnb import Directory

ALICE = "CN=Alice Martin,OU=IT,OU=Corp,DC=contoso,DC=com"
PASSWORD = "Alice-S3cret-2026"  # contoso carries no passwords: the test sets one


@pytest.fixture
def contoso():
    d = Directory.embedded("contoso")
    d.modify(ALICE, [("replace", "userPassword", PASSWORD)])
    return d


@pytest.mark.parametrize("name", ["alice.martin@contoso.com", "ALICE.MARTIN@CONTOSO.COM",
                                  "CONTOSO\\alice.martin", "contoso\\alice.martin", ALICE])
def test_upn_and_down_level_names_bind_as_alice(contoso, name):
    assert contoso.bind(name, PASSWORD) is True
    assert contoso.bind(name, PASSWORD + "x") is False
    conn = contoso.connection(user=name, password=PASSWORD)
    assert conn.bound, conn.result
    assert conn.extend.standard.who_am_i() == f"dn:{ALICE}"


@pytest.mark.parametrize("name", ["FABRIKAM\\alice.martin", "alice.martin@fabrikam.com",
                                  "CONTOSO\\no.such.user", "nobody@contoso.com",
                                  "CONTOSO\\", "@contoso.com"])
def test_wrong_domain_or_account_is_refused_as_wrong_credentials(contoso, name):
    assert contoso.bind(name, PASSWORD) is False
    conn = contoso.connection(user=name, password=PASSWORD)
    assert not conn.bound
    assert conn.result["result"] == 49  # invalidCredentials: never says which part was wrong


def test_implicit_upn_is_sam_account_name_at_the_domain_dns_name(contoso):
    # AD: a user without userPrincipalName still logs on as sAMAccountName@<DNS domain>,
    # and an explicit UPN with another suffix is matched as written
    contoso.modify(ALICE, [("delete", "userPrincipalName", [])])
    assert contoso.bind("alice.martin@contoso.com", PASSWORD) is True
    contoso.modify(ALICE, [("add", "userPrincipalName", ["amartin@corp.example"])])
    assert contoso.bind("amartin@corp.example", PASSWORD) is True
    assert contoso.bind("amartin@contoso.com", PASSWORD) is False  # no such sAMAccountName


def test_netbios_name_comes_from_the_crossref_when_there_is_one():
    # a domain whose crossRef (Configuration partition) names it LEGACY, not its first label
    import warnings

    from ldapnb.entry import Entry

    head = "DC=corp,DC=example,DC=org"
    config = f"CN=Configuration,{head}"

    def entry(dn, **attrs):
        e = Entry(dn)
        for k, v in attrs.items():
            e.set(k, v if isinstance(v, list) else [v])
        return e

    entries = [
        entry(head, objectClass=["top", "domain"], dc="corp"),
        entry(config, objectClass=["top", "container"], cn="Configuration"),
        entry(f"CN=Partitions,{config}", objectClass=["top", "container"], cn="Partitions"),
        entry(f"CN=LEGACY,CN=Partitions,{config}", objectClass=["top", "crossRef"],
              cn="LEGACY", nCName=head, nETBIOSName="LEGACY", dnsRoot="corp.example.org"),
        entry(f"CN=Bob,{head}", objectClass=["top", "person", "user"], cn="Bob", sn="B",
              sAMAccountName="bob", userPassword=PASSWORD),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the classes beyond the bundled schema
        d = Directory.from_entries(entries, strict=False)
    assert d.bind("LEGACY\\bob", PASSWORD) is True
    assert d.bind("CORP\\bob", PASSWORD) is False  # the first label is not its name here
    assert d.bind("bob@corp.example.org", PASSWORD) is True  # implicit UPN


def test_an_ad_name_without_password_is_an_unauthenticated_bind_refused(contoso):
    from ldapnb.errors import BindError

    with pytest.raises(BindError, match="unauthenticated"):
        contoso.source.bind("CONTOSO\\alice.martin", "")
