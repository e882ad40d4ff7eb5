"""A private, real OpenLDAP slapd (ldapnb.sources.slapd) and its certificates (ldapnb.tls).

These tests start real slapd processes on loopback.  They never skip: without slapd they fail
with DirectoryUnavailable, whose message says how to install it.
"""

from __future__ import annotations

import shutil
import socket
import ssl
from pathlib import Path

import ldap3
import pytest
from conftest_slapd import CORPORA, OPENLDAP_SCHEMAS
from cryptography import x509
from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError

from ldapnb.entry import Entry
from ldapnb.errors import (
    DirectoryUnavailable,
    EntryAlreadyExists,
    LdifError,
    SchemaError,
)
from ldapnb.sources import slapd as slapd_module
from ldapnb.sources.slapd import Slapd
from ldapnb.tls import make_certificates

# ldap3 2.9.1 checks host names with ssl.match_hostname, deprecated since Python 3.7 (a
# DeprecationWarning, an error under this project's pytest settings) and gone in 3.12, where
# ldap3 falls back to a copy that rejects IP addresses; so the ldap3 clients below also accept
# the certificate's DNS name "localhost".  The IP address in the certificate is checked with
# the standard library in test_certificate_is_valid_for_the_loopback_address.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning")

TEST_LDIF = CORPORA / "test.ldif"
NIS_LDIF = CORPORA / "nis_sample.ldif"
SUFFIX = "dc=example,dc=com"
BARBARA = "cn=Barbara Jensen,ou=Information Technology Division,ou=People,dc=example,dc=com"
BJORN = "cn=Bjorn Jensen,ou=Information Technology Division,ou=People,dc=example,dc=com"
ALL_STAFF = "cn=All Staff,ou=Groups,dc=example,dc=com"

TINY = """\
dn: dc=tiny,dc=test
objectClass: domain
dc: tiny

dn: uid=ann,dc=tiny,dc=test
objectClass: inetOrgPerson
uid: ann
cn: Ann
sn: Lee
userPassword: ann-pw
"""


def dns_in(path: Path) -> set[str]:
    """Every DN in an LDIF file, unfolded and lower-cased (no ldapnb code involved)."""
    text = path.read_text(encoding="utf-8").replace("\n ", "")
    return {line[3:].strip().lower().replace(", ", ",") for line in text.splitlines()
            if line.lower().startswith("dn:")}


OPEN: list[ldap3.Connection] = []


def client(*args, **kwargs) -> ldap3.Connection:
    """An ldap3 Connection that is closed after the test (see close_clients)."""
    conn = ldap3.Connection(*args, **kwargs)
    OPEN.append(conn)
    return conn


@pytest.fixture(autouse=True)
def close_clients():
    yield
    while OPEN:
        conn = OPEN.pop()
        try:
            conn.unbind()
        except LDAPException:
            pass  # the server is gone
        if conn.socket is not None:
            conn.socket.close()


def connect(server: Slapd, how: str, user: str | None = None, password: str | None = None,
            ca_file: Path | None = None) -> ldap3.Connection:
    """An ldap3 connection over ``ldap``, ``ldaps`` or ``starttls``, TLS verified."""
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(ca_file or server.ca_file),
                    valid_names=["localhost"])
    url = server.urls["ldaps" if how == "ldaps" else "ldap"]
    conn = client(ldap3.Server(url, tls=tls, connect_timeout=5), user=user,
                            password=password, receive_timeout=5, raise_exceptions=False)
    conn.open()
    if how == "starttls":
        assert conn.start_tls()
    conn.bind()
    return conn


def subtree(conn: ldap3.Connection, base: str, filter: str, attributes=None) -> list:
    assert conn.search(base, filter, attributes=attributes or []), conn.result
    return conn.entries


# -- searches over the three transports ------------------------------------------------------
@pytest.mark.slapd
@pytest.mark.parametrize("how", ["ldap", "ldaps", "starttls"])
def test_search_returns_every_entry_over_each_transport(slapd_example, how):
    conn = connect(slapd_example, how)
    try:
        found = {e.entry_dn.lower() for e in subtree(conn, SUFFIX, "(objectClass=*)")}
        assert found == dns_in(TEST_LDIF)
        assert conn.server.ssl == (how == "ldaps") and conn.tls_started == (how == "starttls")
    finally:
        conn.unbind()


@pytest.mark.slapd
def test_ldaps_is_refused_with_another_ca(slapd_example, tmp_path):
    stranger = make_certificates(tmp_path)
    with pytest.raises(LDAPSocketOpenError):
        connect(slapd_example, "ldaps", ca_file=stranger.ca_file)


@pytest.mark.slapd
@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_certificate_is_valid_for_the_loopback_address(slapd_example, name):
    context = ssl.create_default_context(cafile=str(slapd_example.ca_file))
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    with socket.create_connection(("127.0.0.1", slapd_example.ldaps_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.slapd
def test_certificate_is_not_valid_for_another_name(slapd_example):
    context = ssl.create_default_context(cafile=str(slapd_example.ca_file))
    with socket.create_connection(("127.0.0.1", slapd_example.ldaps_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="ldap.example.org")


@pytest.mark.slapd
def test_urls_name_loopback_ports(slapd_example):
    assert slapd_example.urls == {
        "ldap": f"ldap://127.0.0.1:{slapd_example.port}",
        "ldaps": f"ldaps://127.0.0.1:{slapd_example.ldaps_port}",
    }
    assert slapd_example.port != slapd_example.ldaps_port


# -- binds and access rules -----------------------------------------------------------------
@pytest.mark.slapd
def test_rootdn_binds_and_reads_passwords(slapd_example):
    assert slapd_example.rootdn == f"cn=admin,{SUFFIX}"
    conn = connect(slapd_example, "starttls", slapd_example.rootdn, slapd_example.rootpw)
    assert conn.bound
    entry = subtree(conn, BARBARA, "(objectClass=*)", ["userPassword"])[0]
    assert entry.userPassword.value == b"bjensen"
    conn.unbind()


@pytest.mark.slapd
def test_wrong_password_is_invalid_credentials(slapd_example):
    conn = connect(slapd_example, "ldaps", slapd_example.rootdn, "not-the-password")
    assert not conn.bound
    assert conn.result["description"] == "invalidCredentials"
    conn.unbind()


@pytest.mark.slapd
def test_user_binds_but_anonymous_cannot_read_passwords(slapd_example):
    user = connect(slapd_example, "ldaps", BARBARA, "bjensen")
    assert user.bound
    anonymous = connect(slapd_example, "ldap")
    subtree(anonymous, BARBARA, "(objectClass=*)", ["userPassword", "cn"])
    returned = anonymous.response[0]["raw_attributes"]
    assert not returned.get("userPassword") and returned["cn"][0] == b"Barbara Jensen"
    user.unbind()
    anonymous.unbind()


# -- memberOf -------------------------------------------------------------------------------
@pytest.mark.slapd
def test_memberof_for_group_of_names_and_unique_names(slapd_example):
    conn = connect(slapd_example, "ldap")
    bjorn = subtree(conn, BJORN, "(objectClass=*)", ["memberOf"])[0]
    assert {v.lower() for v in bjorn.memberOf.values} == {
        "cn=all staff,ou=groups,dc=example,dc=com",    # groupOfNames member
        "cn=itd staff,ou=groups,dc=example,dc=com",    # groupOfUniqueNames uniqueMember
    }
    conn.unbind()


@pytest.mark.slapd
def test_memberof_filter_finds_group_of_names_members(slapd_example):
    conn = connect(slapd_example, "ldap")
    found = {e.entry_dn.lower() for e in subtree(conn, SUFFIX, f"(memberOf={ALL_STAFF})")}
    members = {v.lower() for v in subtree(conn, ALL_STAFF, "(objectClass=*)", ["member"])[0]
               .member.values}
    assert found == members and len(found) == 11
    conn.unbind()


AD_GROUP = """\
dn: dc=corp,dc=test
objectClass: domain
dc: corp

dn: cn=Ann,dc=corp,dc=test
objectClass: user
cn: Ann
sn: Lee
instanceType: 4
nTSecurityDescriptor: x
objectCategory: CN=Person,CN=Schema,CN=Configuration,dc=corp,dc=test

dn: cn=Admins,dc=corp,dc=test
objectClass: group
cn: Admins
groupType: -2147483646
member: cn=Ann,dc=corp,dc=test
instanceType: 4
nTSecurityDescriptor: x
objectCategory: CN=Group,CN=Schema,CN=Configuration,dc=corp,dc=test
"""


@pytest.mark.slapd
def test_memberof_for_active_directory_groups(slapd_factory):
    server = slapd_factory(AD_GROUP)
    conn = connect(server, "ldap")
    ann = subtree(conn, "cn=Ann,dc=corp,dc=test", "(objectClass=*)", ["memberOf"])[0]
    assert [v.lower() for v in ann.memberOf.values] == ["cn=admins,dc=corp,dc=test"]
    # the data's only groups are AD groups, so they come first and filters work on them
    found = subtree(conn, "dc=corp,dc=test", "(memberOf=cn=Admins,dc=corp,dc=test)")
    assert [e.entry_dn for e in found] == ["cn=Ann,dc=corp,dc=test"]
    conn.unbind()


# -- life cycle -----------------------------------------------------------------------------
def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.slapd
def test_kill_makes_the_next_operation_fail():
    with Slapd(TINY) as server:
        conn = client(server.urls["ldap"], auto_bind=True, raise_exceptions=True,
                                receive_timeout=5)
        assert conn.search("dc=tiny,dc=test", "(objectClass=*)") and len(conn.entries) == 2
        server.kill()
        assert not server.running
        with pytest.raises(LDAPException):
            conn.search("dc=tiny,dc=test", "(objectClass=*)")


@pytest.mark.slapd
def test_stop_frees_the_ports_and_removes_the_folder():
    server = Slapd(TINY).start()
    folder, ports = server.folder, (server.port, server.ldaps_port)
    assert folder.is_dir() and all(accepts(p) for p in ports)
    server.stop()
    assert not folder.exists()
    assert not any(accepts(p) for p in ports)
    for port in ports:  # free to bind again
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


@pytest.mark.slapd
def test_a_failing_with_block_keeps_folder_and_log():
    with pytest.raises(RuntimeError) as info:
        with Slapd(TINY) as server:
            raise RuntimeError("a test failed here")
    try:
        assert server.folder.is_dir() and (server.folder / "slapd.conf").is_file()
        assert (server.folder / "slapd.log").is_file()
        assert any(str(server.folder) in note for note in info.value.__notes__)
        assert not server.running
    finally:
        shutil.rmtree(server.folder)


@pytest.mark.slapd
def test_keep_true_keeps_the_folder():
    with Slapd(TINY, keep=True) as server:
        pass
    try:
        assert (server.folder / "db").is_dir()
    finally:
        shutil.rmtree(server.folder)


@pytest.mark.slapd
def test_rootpw_never_in_repr_config_or_log():
    secret = "s3cret-Do-Not-Show"
    server = Slapd(TINY, rootpw=secret)
    assert secret not in repr(server)
    with server:
        assert secret not in repr(server) and "running" in repr(server)
        assert server.rootpw == secret
        assert secret not in (server.folder / "slapd.conf").read_text()
        assert secret not in server.log
        assert connect(server, "ldaps", server.rootdn, secret).bound
    assert secret not in repr(server)


@pytest.mark.slapd
def test_random_rootpw_binds(slapd_factory):
    server = slapd_factory(TINY)
    assert len(server.rootpw) >= 16
    assert connect(server, "starttls", server.rootdn, server.rootpw).bound


# -- data, suffix, errors -------------------------------------------------------------------
@pytest.mark.slapd
def test_suffix_is_the_common_suffix_not_the_first_entry(slapd_example):
    first = TEST_LDIF.read_text().split("\n", 2)[1]
    assert first.startswith("dn: cn=All Staff")  # test.ldif does not start with its top
    assert slapd_example.suffix == SUFFIX


@pytest.mark.slapd
def test_nis_sample_duplicates_stop_a_strict_load():
    with pytest.raises(EntryAlreadyExists) as info:
        Slapd(NIS_LDIF).start()
    assert info.value.dn == "cn=localhost,o=SGI,c=US"
    assert "line 239" in " ".join(info.value.__notes__)


@pytest.mark.slapd
def test_nis_sample_loads_with_bad_entries_skipped(slapd_factory):
    server = slapd_factory(NIS_LDIF, check_schema=False, skip_bad_entries=True)
    assert server.suffix == "o=SGI,c=US"  # written "o=SGI, c=US" in the file
    unique = dns_in(NIS_LDIF)
    assert len(server.skipped) == 60 and all("KEYEXIST" in r for _, _, r in server.skipped)
    conn = connect(server, "ldaps")
    assert len(subtree(conn, server.suffix, "(objectClass=*)")) == len(unique) == 1205
    root = subtree(conn, server.suffix, "(&(objectClass=posixGroup)(memberUid=root))")
    assert {e.entry_dn for e in root} >= {"cn=sys,o=SGI,c=US", "cn=root,o=SGI,c=US"}
    conn.unbind()


@pytest.mark.slapd
def test_unknown_object_class_is_a_schema_error_quoting_slapadd():
    bad = "dn: dc=x,dc=test\nobjectClass: domain\ndc: x\n\n" \
          "dn: cn=y,dc=x,dc=test\nobjectClass: acmePerson\ncn: y\nsn: y\nuid: y\n"
    with pytest.raises(SchemaError) as info:
        Slapd(bad).start()
    text = str(info.value)
    assert "cn=y,dc=x,dc=test" in text and "line 5" in text and "acmePerson" in text
    assert "schemas=" in text


@pytest.mark.slapd
def test_unparsable_ldif_is_an_ldif_error():
    with pytest.raises(LdifError) as info:
        Slapd("dn: dc=x,dc=test\nobjectClass: domain\ndc: x\nno colon here\n").start()
    assert info.value.line is not None


@pytest.mark.slapd
def test_entries_are_written_with_ldapnb_ldif():
    entries = [
        Entry("dc=ent,dc=test", {"objectClass": ["domain"], "dc": ["ent"]}),
        Entry("cn=Zoë,dc=ent,dc=test", {"objectClass": ["person"], "cn": ["Zoë"], "sn": ["Z"]}),
    ]
    with Slapd(entries=entries, tls=False) as server:
        assert server.suffix == "dc=ent,dc=test" and set(server.urls) == {"ldap"}
        conn = client(server.urls["ldap"], auto_bind=True)
        found = subtree(conn, server.suffix, "(cn=Zoë)", ["cn"])
        assert [e.cn.value for e in found] == ["Zoë"]


@pytest.mark.slapd
def test_size_limit_applies_to_ordinary_users():
    with Slapd(TINY, sizelimit=1) as server:
        anonymous = client(server.urls["ldap"], auto_bind=True)
        anonymous.search("dc=tiny,dc=test", "(objectClass=*)")
        assert anonymous.result["description"] == "sizeLimitExceeded"
        root = client(server.urls["ldap"], server.rootdn, server.rootpw,
                                auto_bind=True)
        assert root.search("dc=tiny,dc=test", "(objectClass=*)") and len(root.entries) == 2


def test_missing_slapd_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(slapd_module, "_SBIN_DIRS", ())
    with pytest.raises(DirectoryUnavailable) as info:
        Slapd(TINY).start()
    assert "apt-get install slapd ldap-utils" in str(info.value)


def test_ldif_and_entries_together_are_refused():
    with pytest.raises(TypeError):
        Slapd(TINY, entries=[])


# -- the fixture factory --------------------------------------------------------------------
@pytest.mark.slapd
def test_factory_shares_one_server_per_ldif(slapd_factory, slapd_example):
    again = slapd_factory(TEST_LDIF, schemas=OPENLDAP_SCHEMAS)
    assert again is slapd_example and again.running


# -- certificates ---------------------------------------------------------------------------
def test_certificates_name_localhost_and_loopback_and_chain_to_the_ca(tmp_path):
    certs = make_certificates(tmp_path)
    cert = x509.load_pem_x509_certificate(certs.cert_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    ca = x509.load_pem_x509_certificate(certs.ca_file.read_bytes())
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    assert certs.key_file.stat().st_mode & 0o077 == 0


def test_certificates_need_an_existing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        make_certificates(tmp_path / "missing")
