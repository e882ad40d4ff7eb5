"""Live connections (ldapnb.sources.live) and Directory.connect / Directory.slapd, against real
OpenLDAP slapd servers started by the tests on loopback.  No skips: without slapd these fail
with DirectoryUnavailable saying how to install it.
"""

from __future__ import annotations

import os
import socket
import threading

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldapnb import Directory
from ldapnb import dn as dnlib
from ldapnb.directory import fixture_path
from ldapnb.errors import (
    BindError,
    DirectoryUnavailable,
    FilterError,
    LdifError,
    LimitExceeded,
    NoSuchEntry,
    OperationError,
    ReadOnlyError,
    TlsError,
)
from ldapnb.frames import frame_from_pages
from ldapnb.ldif import Record
from ldapnb.sources.base import ColumnPage as Page
from ldapnb.sources.live import (
    LiveSource,
    _range_option,
    certificate_names,
    complete_ranges,
    md4_available,
    name_matches,
)
from ldapnb.sources.slapd import Slapd
from ldapnb.tls import make_certificates

CONTOSO = fixture_path("contoso")
BASE = "DC=contoso,DC=com"
USERS = 424  # (objectClass=user) in the contoso fixture (computers and the gMSA included)
TINY_REFERRAL = """\
dn: dc=tiny,dc=test
objectClass: domain
dc: tiny

dn: uid=ann,dc=tiny,dc=test
objectClass: inetOrgPerson
uid: ann
cn: Ann
sn: Lee

dn: ou=far,dc=tiny,dc=test
objectClass: referral
objectClass: extensibleObject
ou: far
ref: ldap://other.example.org/ou=far,dc=tiny,dc=test
"""

OPEN: list[LiveSource] = []


def live(url: str, **options) -> LiveSource:
    """A LiveSource closed after the test."""
    source = LiveSource(url, **options)
    OPEN.append(source)
    return source


@pytest.fixture(autouse=True)
def close_sources():
    yield
    while OPEN:
        OPEN.pop().close()


@pytest.fixture
def contoso_slapd(slapd_factory) -> Slapd:
    return slapd_factory(CONTOSO)


@pytest.fixture(scope="module")
def embedded() -> Directory:
    return Directory.embedded("contoso")


def rootdn_source(server: Slapd, how: str, **options) -> LiveSource:
    if how == "ldaps":
        return live(server.urls["ldaps"], user=server.rootdn, password=server.rootpw,
                    ca_file=server.ca_file, **options)
    if how == "starttls":
        return live(server.urls["ldap"], start_tls=True, user=server.rootdn,
                    password=server.rootpw, ca_file=server.ca_file, **options)
    return live(server.urls["ldap"], user=server.rootdn, password=server.rootpw,
                allow_cleartext=True, **options)


def normalised(df: pd.DataFrame) -> pd.DataFrame:
    """DNs normalised (slapd lower-cases attribute types in DNs), rows sorted by DN."""
    out = df.copy()
    out["dn"] = out["dn"].map(dnlib.normalize).astype(df["dn"].dtype)
    return out.sort_values("dn").reset_index(drop=True)


ATTRS = ["cn", "sn", "sAMAccountName", "userAccountControl", "objectSid", "whenCreated",
         "description", "member"]


# -- searches equal the embedded directory's answers ----------------------------------------
@pytest.mark.parametrize("how", ["ldap", "ldaps", "starttls"])
@pytest.mark.parametrize("filter", ["(objectClass=user)", "(&(objectClass=group)(member=*))",
                                    "(sn=*er)", "(!(userAccountControl=512))"])
def test_search_equals_the_embedded_directory(contoso_slapd, embedded, how, filter):
    d = Directory(rootdn_source(contoso_slapd, how, page_size=40))
    got = normalised(d.search(filter, attributes=ATTRS))
    want = normalised(embedded.search(filter, attributes=ATTRS))
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, want)


def test_entries_equal_the_embedded_directory(contoso_slapd, embedded):
    source = rootdn_source(contoso_slapd, "ldaps")
    got = {dnlib.normalize(e.dn): e.to_dict() for e in
           source.search(BASE, "sub", "(objectClass=group)", ["cn", "groupType", "objectSid"])}
    want = {dnlib.normalize(e.dn): e.to_dict() for e in
            embedded.entries("(objectClass=group)", attributes=["cn", "groupType", "objectSid"])}
    assert got == want
    assert isinstance(next(iter(got.values()))["objectSid"][0], bytes)


def test_memberof_comes_from_the_server(contoso_slapd, embedded):
    d = Directory(rootdn_source(contoso_slapd, "ldaps"))
    admin = "CN=Administrator,CN=Users,DC=contoso,DC=com"
    got = {dnlib.normalize(g) for g in d.member_of(admin)}
    assert got == {dnlib.normalize(g) for g in embedded.member_of(admin)}
    assert len(got) >= 3


def test_search_chunks_stream_pages(contoso_slapd):
    d = Directory(rootdn_source(contoso_slapd, "ldaps"))
    chunks = list(d.search_chunks("(objectClass=user)", page_size=100,
                                  attributes=["cn", "userAccountControl"]))
    assert [len(c) for c in chunks] == [100, 100, 100, 100, 24]
    assert all(list(c.columns) == ["dn", "cn", "userAccountControl"] for c in chunks)
    assert str(chunks[0]["userAccountControl"].dtype) == "Int64"


def test_default_search_is_typed_like_the_embedded_one(contoso_slapd, embedded):
    d = Directory(rootdn_source(contoso_slapd, "ldaps"))
    got = d.search("(sAMAccountName=Administrator)")
    want = embedded.search("(sAMAccountName=Administrator)")
    shared = [c for c in want.columns if c != "dn"]
    assert set(shared) <= set(got.columns)
    for column in shared:
        assert got[column].dtype == want[column].dtype, column


def test_base_rootdse_naming_contexts_schema(contoso_slapd):
    d = Directory(rootdn_source(contoso_slapd, "ldaps"))
    assert d.naming_contexts == ("dc=contoso,dc=com",)
    assert d.base.lower() == "dc=contoso,dc=com"
    assert "1.3.6.1.4.1.1466.20037" in d.root_dse["supportedExtension"]
    assert d.schema.attribute_type("sAMAccountName") is not None
    assert d.get("").dn == ""
    assert "CN=Users,DC=contoso,DC=com" in d and "CN=Nobody,DC=contoso,DC=com" not in d
    assert len(d) == 511
    assert "511" not in repr(d) and contoso_slapd.urls["ldaps"] in repr(d)


def test_missing_base_is_no_such_entry(contoso_slapd):
    d = Directory(rootdn_source(contoso_slapd, "ldaps"))
    with pytest.raises(NoSuchEntry, match="dc=contoso,dc=com"):
        d.search(base="OU=Nowhere,DC=contoso,DC=com")
    with pytest.raises(NoSuchEntry):
        d.get("CN=Nobody,DC=contoso,DC=com")


def test_bad_filter_is_refused_before_sending(contoso_slapd):
    d = Directory(rootdn_source(contoso_slapd, "ldaps"))
    with pytest.raises(FilterError, match="position"):
        d.search("(cn=a")


# -- binds -----------------------------------------------------------------------------------
def test_wrong_password_is_a_bind_error(contoso_slapd):
    with pytest.raises(BindError, match="invalid credentials") as info:
        live(contoso_slapd.urls["ldaps"], user=contoso_slapd.rootdn, password="wrong-pw-42",
             ca_file=contoso_slapd.ca_file)
    assert "wrong-pw-42" not in str(info.value)


def test_password_never_in_repr(contoso_slapd):
    source = rootdn_source(contoso_slapd, "ldaps")
    assert contoso_slapd.rootpw not in repr(source)
    assert contoso_slapd.rootpw not in repr(source._conn)  # ldap3's repr would show it
    assert contoso_slapd.rootpw not in repr(vars(source))
    assert contoso_slapd.rootpw not in repr(Directory(source))


def test_cleartext_password_refused_before_anything_is_sent():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        with pytest.raises(BindError, match="password over plain ldap://") as info:
            live(f"ldap://127.0.0.1:{port}", user="cn=admin,dc=x", password="s3cret")
        message = str(info.value)
        assert "ldaps://" in message and "start_tls=True" in message
        assert "Nothing was sent" in message and "s3cret" not in message
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()


def test_cleartext_allowed_when_asked(contoso_slapd):
    source = rootdn_source(contoso_slapd, "ldap")
    assert not source.encrypted
    assert source.get(BASE, ["dc"]).first("dc") == "contoso"


def test_anonymous_over_plain_ldap_is_fine(contoso_slapd):
    source = live(contoso_slapd.urls["ldap"])
    entry = source.get("CN=Administrator,CN=Users,DC=contoso,DC=com", ["cn"])
    assert entry.first("cn") == "Administrator"


def test_directory_bind_checks_credentials(contoso_slapd):
    d = Directory(rootdn_source(contoso_slapd, "ldaps"))
    assert d.bind(contoso_slapd.rootdn, contoso_slapd.rootpw) is True
    assert d.bind(contoso_slapd.rootdn, "not-it") is False
    plain = Directory(live(contoso_slapd.urls["ldap"]))
    with pytest.raises(BindError, match="Nothing was sent"):
        plain.bind(contoso_slapd.rootdn, contoso_slapd.rootpw)


def test_ntlm_says_when_md4_is_missing():
    # Port 1: if ldapnb tried to connect first, this would be DirectoryUnavailable.
    if md4_available():
        with pytest.raises(DirectoryUnavailable):
            live("ldap://127.0.0.1:1", authentication="ntlm", user="CONTOSO\\amy", password="p")
    else:
        with pytest.raises(BindError, match="MD4") as info:
            live("ldap://127.0.0.1:1", authentication="ntlm", user="CONTOSO\\amy", password="p")
        assert "OpenSSL" in str(info.value) and "pycryptodome" in str(info.value)


def test_kerberos_without_gssapi_says_how_to_install():
    import importlib.util

    if importlib.util.find_spec("gssapi") is not None:
        # by IP the KDC knows no ldap/<ip> service: refused before sending, naming the fix
        with pytest.raises(BindError, match="kerberos_host="):
            live("ldap://127.0.0.1:1", authentication="kerberos")
        with pytest.raises(DirectoryUnavailable):
            live("ldap://127.0.0.1:1", authentication="kerberos", kerberos_host="dc1.test")
    else:
        with pytest.raises(BindError, match=r"ldapnb\[kerberos\]"):
            live("ldap://127.0.0.1:1", authentication="kerberos")


def test_sasl_mechanism_not_offered_names_the_offered_ones(contoso_slapd, tmp_path):
    certs = make_certificates(tmp_path)  # a client certificate slapd was not told to ask for
    with pytest.raises(BindError, match="does not offer SASL EXTERNAL.*DIGEST-MD5"):
        live(contoso_slapd.urls["ldaps"], ca_file=contoso_slapd.ca_file,
             sasl_mechanism="EXTERNAL", client_cert=certs.cert_file,
             client_key=certs.key_file)


# -- TLS -------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["ldaps", "starttls"])
def test_untrusted_ca_is_a_tls_error(contoso_slapd, tmp_path, how):
    other = make_certificates(tmp_path).ca_file
    url = contoso_slapd.urls["ldaps" if how == "ldaps" else "ldap"]
    with pytest.raises(TlsError, match="certificate is not trusted: signed by an unknown CA"):
        live(url, start_tls=how == "starttls", ca_file=other)


def test_system_store_does_not_trust_a_private_ca(contoso_slapd):
    with pytest.raises(TlsError, match="not trusted.*system's trusted CAs"):
        live(contoso_slapd.urls["ldaps"])


class OtherLoopback(Slapd):
    """A slapd listening on 127.0.0.2: its certificate names localhost and 127.0.0.1 only."""

    host = "127.0.0.2"


@pytest.fixture(scope="module")
def other_host():
    with OtherLoopback(TINY_REFERRAL) as server:
        yield server


@pytest.mark.parametrize("how", ["ldaps", "starttls"])
def test_wrong_host_name_is_a_tls_error_naming_both(other_host, how):
    url = other_host.urls["ldaps" if how == "ldaps" else "ldap"]
    assert "127.0.0.2" in url
    with pytest.raises(TlsError, match="name mismatch: the certificate is for localhost, "
                                       "127.0.0.1, not 127.0.0.2"):
        live(url, start_tls=how == "starttls", ca_file=other_host.ca_file)


def test_ip_address_in_san_is_checked_as_an_address(other_host):
    # the same server, checked against the address its certificate does list
    source = live(other_host.urls["ldaps"], ca_file=other_host.ca_file,
                  tls_server_name="127.0.0.1")
    assert source.get("uid=ann,dc=tiny,dc=test", ["cn"]).first("cn") == "Ann"
    assert "127.0.0.1" in certificate_names(source._tls.peer)


def test_name_matching_rules():
    names = ["localhost", "127.0.0.1", "*.corp.example", "::1"]
    assert name_matches("LOCALHOST", names) and name_matches("127.0.0.1", names)
    assert name_matches("dc1.corp.example", names) and name_matches("0:0::1", names)
    assert not name_matches("a.dc1.corp.example", names)
    assert not name_matches("corp.example", names)
    assert not name_matches("127.0.0.2", names) and not name_matches("10.0.0.5", ["*.0.0.5"])


# -- failures: closed port, server killed, timeouts -------------------------------------------
def test_closed_port_is_unavailable_with_host_port_and_hint():
    with pytest.raises(DirectoryUnavailable) as info:
        live("ldap://127.0.0.1:1")
    assert info.value.host == "127.0.0.1" and info.value.port == 1
    message = str(info.value)
    assert "nothing listens on 127.0.0.1:1" in message
    assert "is the server running?" in message and "firewall" in message


def test_unknown_host_name_is_unavailable():
    with pytest.raises(DirectoryUnavailable, match="cannot resolve the host name"):
        live("ldaps://no-such-host.invalid")


def test_a_url_that_is_not_ldap_is_refused():
    with pytest.raises(DirectoryUnavailable, match="ldap:// .*ldaps://"):
        live("http://127.0.0.1/")


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for s in held:
        s.close()
    listener.close()


def test_silent_server_times_out_on_the_tls_handshake(silent_port):
    with pytest.raises(DirectoryUnavailable, match="no answer from 127.0.0.1") as info:
        live(f"ldaps://127.0.0.1:{silent_port}", timeout=0.3)
    assert info.value.port == silent_port


def test_silent_server_times_out_on_an_operation(silent_port):
    source = live(f"ldap://127.0.0.1:{silent_port}", timeout=0.3)  # anonymous: nothing sent
    with pytest.raises(DirectoryUnavailable, match="no answer from 127.0.0.1"):
        source.get("dc=x", ["cn"])


def test_server_killed_during_a_paged_search():
    with Slapd(CONTOSO) as server:
        source = LiveSource(server.urls["ldaps"], user=server.rootdn, password=server.rootpw,
                            ca_file=server.ca_file, page_size=50)
        try:
            seen = 0
            with pytest.raises(DirectoryUnavailable, match="incomplete") as info:
                for _entry in source.search(BASE, "sub", "(objectClass=*)"):
                    seen += 1
                    if seen == 1:
                        server.kill()
            assert 50 <= seen < 511  # whole pages that had arrived, never all of them
            assert "entries" in str(info.value)
            with pytest.raises(DirectoryUnavailable, match="nothing listens"):
                source.get(BASE)  # reconnecting finds nobody
        finally:
            source.close()


def test_no_partial_frame_when_the_server_dies():
    with Slapd(CONTOSO) as server:
        source = LiveSource(server.urls["ldaps"], user=server.rootdn, password=server.rootpw,
                            ca_file=server.ca_file, page_size=100)
        try:
            schema = source.schema

            def pages():  # what Directory.search reads, with slapd dying after page one
                for i, page in enumerate(source.search_pages(BASE, "sub", "(objectClass=*)")):
                    if i == 0:
                        server.kill()
                    yield page

            with pytest.raises(DirectoryUnavailable):
                frame_from_pages(pages(), schema=schema)
        finally:
            source.close()


# -- limits, referrals, read-only -----------------------------------------------------------
@pytest.mark.parametrize("page_size", [0, 3])
def test_request_size_limit_is_limit_exceeded(contoso_slapd, page_size):
    d = Directory(rootdn_source(contoso_slapd, "ldaps", page_size=page_size))
    with pytest.raises(LimitExceeded, match="after 5 entries") as info:
        d.search("(objectClass=user)", size_limit=5)
    assert info.value.returned == 5 and info.value.limit == 5 and info.value.kind == "size"


def test_server_size_limit_is_limit_exceeded(slapd_factory):
    server = slapd_factory(CONTOSO, sizelimit=10)
    d = Directory(live(server.urls["ldap"], page_size=0))  # anonymous: the limit applies
    with pytest.raises(LimitExceeded, match="server's size limit") as info:
        d.search("(objectClass=user)")
    assert info.value.returned == 10


def test_referrals_are_reported_not_followed(other_host):
    source = live(other_host.urls["ldaps"], ca_file=other_host.ca_file,
                  tls_server_name="localhost")
    # reported once per search in the result's metadata (the source's referrals for an entry
    # stream, df.attrs for a DataFrame), never as a warning (pytest turns warnings into errors)
    found = [e.dn for e in source.search("dc=tiny,dc=test", "sub", "(objectClass=*)")]
    assert "uid=ann,dc=tiny,dc=test" in found
    assert len(source.referrals) == 1
    assert source.referrals[0].startswith("ldap://other.example.org/ou=far,dc=tiny,dc=test")
    df = Directory(source).search("(objectClass=*)", base="dc=tiny,dc=test")
    assert "uid=ann,dc=tiny,dc=test" in set(df.dn)
    assert [r.split("/")[2] for r in df.attrs["referrals"]] == ["other.example.org"]
    assert any("other.example.org" in w for w in df.attrs["warnings"])
    with pytest.raises(OperationError, match="ldap://other.example.org") as info:
        source.get("uid=x,ou=far,dc=tiny,dc=test")
    assert info.value.result == "referral"


def test_read_only_refuses_writes_before_sending(contoso_slapd):
    d = Directory(rootdn_source(contoso_slapd, "ldaps"))  # writable=False by default
    target = "CN=Users,DC=contoso,DC=com"
    with pytest.raises(ReadOnlyError, match="writable=True"):
        d.add("CN=New,CN=Users,DC=contoso,DC=com", {"objectClass": "container", "cn": "New"})
    with pytest.raises(ReadOnlyError):
        d.modify(target, [("replace", "description", "changed")])
    with pytest.raises(ReadOnlyError):
        d.delete(target)
    with pytest.raises(ReadOnlyError):
        d.rename(target, "CN=Users2")
    assert target in d and "CN=New,CN=Users,DC=contoso,DC=com" not in d


# -- AD range retrieval ---------------------------------------------------------------------
def test_range_retrieval_is_assembled_on_the_ad_emulation(embedded):
    groups = embedded.search("(objectClass=group)", attributes=["member"])
    big = groups[groups["member"].map(len) > 7].iloc[0]
    conn = embedded.connection(max_val_range=3)
    conn.search(big.dn, "(objectClass=*)", "BASE", attributes=["member", "cn"])
    first = dict(conn.response[0]["raw_attributes"])
    assert "member;range=0-2" in first and len(first["member;range=0-2"]) == 3
    full = complete_ranges(conn, big.dn, first)
    assert set(full) == {"member", "cn"}
    assert [v.decode() for v in full["member"]] == list(big.member)


@given(st.sampled_from(["member", "member;binary", "x-attr"]),
       st.integers(0, 10**6), st.one_of(st.none(), st.integers(0, 10**6)))
def test_range_option_round_trip(name, lo, hi):
    text = f"{name};range={lo}-{'*' if hi is None else hi}"
    assert _range_option(text) == (name, lo, hi)
    assert _range_option(name) is None


def test_frame_from_pages_names_columns_like_to_frame():
    pages = [Page(["cn=a"], {"CN": [[b"a"]]}), Page(["cn=b"], {"cn": [[b"b", b"c"]]})]
    df = frame_from_pages(pages, attributes=["cn", "mail"])
    assert list(df.columns) == ["dn", "cn", "mail"]
    assert df["cn"].tolist() == [["a"], ["b", "c"]]
    assert df["mail"].isna().all()


# -- Directory.slapd ------------------------------------------------------------------------
def test_directory_slapd_round_trip():
    with Directory.slapd("contoso") as d:
        server = d.slapd
        assert server.running and d.urls == server.urls
        assert d.ca_file == server.ca_file and d.ca_file.is_file()
        assert set(d.urls) == {"ldap", "ldaps"} and d.source.scheme == "ldaps"
        assert len(d.search("(objectClass=user)", attributes=["cn"])) == USERS
        # a private server: writable
        new = "CN=Lab Box,CN=Computers,DC=contoso,DC=com"
        d.add(new, {"objectClass": ["top", "organizationalRole"], "cn": "Lab Box"})
        d.modify(new, [("add", "description", "made by a test")])
        assert d.get(new, ["description"]).first("description") == "made by a test"
        moved = d.rename(new, "CN=Lab Box 2")
        assert dnlib.equal(moved, "CN=Lab Box 2,CN=Computers,DC=contoso,DC=com")
        d.delete(moved)
        assert moved not in d
        folder = server.folder
    assert not server.running and not folder.exists()
    assert callable(Directory.slapd) and Directory.embedded().slapd is None


def test_directory_slapd_with_starttls_and_a_path():
    with Directory.slapd(CONTOSO, via="starttls", writable=False) as d:
        assert d.source.start_tls and d.source.encrypted
        with pytest.raises(ReadOnlyError):
            d.delete("CN=Users,DC=contoso,DC=com")
        assert d.get("CN=Users,DC=contoso,DC=com").first("cn") == "Users"


def test_directory_connect(contoso_slapd):
    with Directory.connect(contoso_slapd.urls["ldap"], contoso_slapd.rootdn,
                           contoso_slapd.rootpw, ca_file=contoso_slapd.ca_file,
                           start_tls=True) as d:
        assert d.is_live and d.slapd is None
        assert d.ca_file is not None and d.ca_file.samefile(contoso_slapd.ca_file)
        df = d.search("(objectClass=group)", attributes=["member"])
        assert len(df) > 10 and df["member"].map(len).sum() > 0
        conn = d.connection()  # a plain ldap3 connection with the same TLS settings
        try:
            assert conn.search(BASE, "(cn=Users)", attributes=["cn"]) is True
            assert conn.tls_started
        finally:
            conn.unbind()


def test_other_requests_while_a_paged_search_streams(contoso_slapd):
    source = rootdn_source(contoso_slapd, "ldaps", page_size=50)
    seen = 0
    for entry in source.search(BASE, "sub", "(objectClass=user)", ["cn"]):
        seen += 1
        if seen in (1, 120):  # the fast reader has already asked for the next page
            assert source.get(entry.dn, ["cn"]).first("cn") == entry.first("cn")
    assert seen == USERS


def test_stopping_a_paged_search_early_leaves_the_source_usable(contoso_slapd):
    source = rootdn_source(contoso_slapd, "ldaps", page_size=20)
    for n, _entry in enumerate(source.search(BASE, "sub", "(objectClass=user)", ["cn"])):
        if n == 30:
            break
    assert sum(1 for _ in source.search(BASE, "sub", "(objectClass=user)", ["1.1"])) == USERS


class _FsPath:
    """A path-like object that is not a pathlib.Path (str() of it is not the path)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def __fspath__(self) -> str:
        return self.path


def test_ca_file_may_be_any_path_like(contoso_slapd, tmp_path):
    with pytest.raises(TlsError, match="missing-ca.pem"):  # was str(obj): "<...object at>"
        live("ldaps://127.0.0.1:1", ca_file=_FsPath(tmp_path / "missing-ca.pem"))
    source = live(contoso_slapd.urls["ldaps"], user=contoso_slapd.rootdn,
                  password=contoso_slapd.rootpw, ca_file=_FsPath(contoso_slapd.ca_file))
    assert source.ca_file == os.fspath(contoso_slapd.ca_file)
    assert source.get(BASE).dn.lower() == BASE.lower()


def test_load_refuses_a_hand_made_record_missing_its_parts(contoso_slapd):
    source = rootdn_source(contoso_slapd, "ldaps", writable=True)
    users = "CN=Users,DC=contoso,DC=com"
    with pytest.raises(LdifError, match=r"hand\.ldif, line 3: the modrdn record .* needs a "
                                        "newrdn"):
        source.load([Record(users, 3, "modrdn", None, [])], source="hand.ldif")
    with pytest.raises(LdifError, match=r"line 7: the add record .* has no entry to add"):
        source.load([Record(f"CN=Zed,{users}", 7, "add", None, [])], source="hand.ldif")
    assert users in Directory(source)
