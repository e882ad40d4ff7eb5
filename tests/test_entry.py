"""Entry: case-insensitive names, options, secrets masked, shared spellings copied on write."""

from __future__ import annotations

import pickle

import pytest

from ldapnb.entry import Entry, SharedNames


def test_names_are_case_insensitive_and_keep_their_spelling() -> None:
    e = Entry("cn=a,dc=x", {"objectClass": ["person"], "CN": ["a"]})
    assert e["cn"] == ["a"] and e.name_of("cn") == "CN" and "OBJECTCLASS" in e
    assert list(e) == ["objectClass", "CN"]


def test_options_are_their_own_keys_and_found_with_the_base_type() -> None:
    e = Entry("cn=a,dc=x", {"cn": ["a"], "cn;lang-fr": ["à"], "sn": ["b"]})
    assert dict(e.with_options("cn")) == {"cn": ["a"], "cn;lang-fr": ["à"]}
    e.remove("cn;lang-fr")
    assert dict(e.with_options("cn")) == {"cn": ["a"]}


def test_secrets_never_in_the_repr() -> None:
    e = Entry("uid=a,dc=x", {"uid": ["a"], "userPassword": ["s3cret"], "unicodePwd": [b"x"]})
    assert "s3cret" not in repr(e) and "********" in repr(e)
    assert "s3cret" not in e._repr_html_()
    assert e.to_dict(mask_secrets=True)["userPassword"] == ["********"]


def test_shared_spellings_are_copied_before_any_change() -> None:
    shared = SharedNames({"cn": "cn", "sn": "sn"})
    a, b = Entry("cn=a,dc=x"), Entry("cn=b,dc=x")
    for e, v in ((a, "a"), (b, "b")):
        e._attrs = {"cn": [v], "sn": ["s"]}
        e._names = shared
    a.add("mail", ["a@x"])
    b.set("sn", [])
    a.remove("cn")
    assert dict(shared) == {"cn": "cn", "sn": "sn"}  # untouched
    assert list(a) == ["sn", "mail"] and list(b) == ["cn"]
    with pytest.raises(TypeError):
        shared["x"] = "x"
    assert type(pickle.loads(pickle.dumps(shared))) is dict
    assert type(a.copy()._names) is dict
