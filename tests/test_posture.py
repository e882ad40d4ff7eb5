"""Issue 11: the server's LDAP posture from live connections (real slapd, real Samba)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ldapnb import Directory, audit
from ldapnb.directory import fixture_path
from ldapnb.sources.slapd import Slapd
from ldapnb.tls import Certificates

HARDENED_ACL = "access to * by users read by anonymous auth"


def ids(frame):
    return set(frame["rule_id"])


def make_flawed_certificates(folder: Path, *, days: int, server_auth: bool) -> Certificates:
    """A CA and a server certificate for localhost/127.0.0.1, made with cryptography:
    ``days`` of validity left, with or without the serverAuth EKU."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "posture test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
               .issuer_name(ca_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName([
                   x509.DNSName("localhost"),
                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False))
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if server_auth:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    files = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    files.key_file.chmod(0o600)
    return files


# -- OpenLDAP: an open server and a hardened one ----------------------------------------------


def test_open_slapd_accepts_clear_binds_and_anonymous_reads(slapd_factory):
    server = slapd_factory(fixture_path("example"))  # stock ACL: 'access to * by * read'
    f = audit.posture(list(server.urls.values()), ca_file=server.ca_file)
    assert ids(f) == {"LDAP-00", "LDAP-01", "LDAP-06"}, f[["rule_id", "evidence"]]
    clear = f[f.rule_id == "LDAP-01"].iloc[0]
    assert clear["subject"] == server.urls["ldap"]
    assert clear["evidence"]["answer"] == "invalidCredentials (49)"  # checked, not refused
    assert clear["severity"] == "high" and clear["pingcastle"] == "A-DCLdapSign"
    anon = f[f.rule_id == "LDAP-06"].iloc[0]["evidence"]
    assert anon["naming_contexts"] == ["dc=example,dc=org"]
    assert "ou=People,dc=example,dc=org" in anon["entries_read"]["dc=example,dc=org"]
    # the certificate (trustme, localhost + 127.0.0.1, serverAuth) raises nothing
    assert not ids(f) & {"LDAP-02", "LDAP-03", "LDAP-04", "LDAP-05"}


def test_hardened_slapd_refuses_clear_binds_and_anonymous_reads(slapd_factory):
    server = slapd_factory(fixture_path("example"), acl=HARDENED_ACL,
                           database_config=["security simple_bind=128"])
    f = audit.posture(list(server.urls.values()), ca_file=server.ca_file)
    assert ids(f) == {"LDAP-00"}, f[["rule_id", "evidence"]]
    probed = f[(f.rule_id == "LDAP-00") & (f.subject == server.urls["ldap"])].iloc[0]
    clear = probed["evidence"]["clear_bind"]
    assert clear["refused"] and clear["result"] == 13  # confidentialityRequired
    assert probed["evidence"]["anonymous_read"]["readable"] == {}
    assert "dc=example,dc=org" in probed["evidence"]["anonymous_read"]["refused"]


def test_certificate_without_server_auth_and_near_expiry(tmp_path):
    certs = make_flawed_certificates(tmp_path, days=10, server_auth=False)
    with Slapd(fixture_path("example"), tls=certs, acl=HARDENED_ACL,
               database_config=["security simple_bind=128"]) as server:
        f = audit.posture(server.urls["ldaps"], ca_file=server.ca_file)
    # OpenSSL itself refuses a server certificate without serverAuth: the chain fails too
    assert ids(f) == {"LDAP-00", "LDAP-02", "LDAP-04", "LDAP-05"}, f[["rule_id", "evidence"]]
    assert "purpose" in f[f.rule_id == "LDAP-05"].iloc[0]["evidence"]["verification"]
    eku = f[f.rule_id == "LDAP-02"].iloc[0]["evidence"]
    assert eku["eku"] == ["clientAuth"] and "no serverAuth" in eku["problem"]
    expiry = f[f.rule_id == "LDAP-04"].iloc[0]
    assert expiry["severity"] == "medium" and 8 <= expiry["evidence"]["days_left"] <= 10
    # judged 40 days later, the same certificate has expired: high
    good = make_flawed_certificates(tmp_path, days=10, server_auth=True)
    from ldapnb.tls import make_certificates

    (tmp_path / "other").mkdir()
    other_ca = make_certificates(tmp_path / "other").ca_file
    with Slapd(fixture_path("example"), tls=good) as server:
        g = audit.posture(server.urls["ldaps"], ca_file=server.ca_file,
                          now=dt.datetime.now(dt.UTC) + dt.timedelta(days=40))
        untrusted = audit.posture(server.urls["ldaps"], ca_file=other_ca)
    row = g[g.rule_id == "LDAP-04"].iloc[0]
    assert row["severity"] == "high" and row["evidence"]["expired"] is True
    assert not ids(g) & {"LDAP-02", "LDAP-05"}
    # a CA that is not the issuer: the chain is not trusted
    assert "LDAP-05" in ids(untrusted)


def test_certificate_missing_the_servers_name(tmp_path):
    from ldapnb.tls import make_certificates

    certs = make_certificates(tmp_path, ("ldap.example.net",))
    with Slapd(fixture_path("example"), tls=certs) as server:
        f = audit.posture(server.urls["ldaps"], ca_file=server.ca_file)
    names = f[f.rule_id == "LDAP-03"]
    assert len(names) == 1 and names.iloc[0]["evidence"]["missing"] == ["127.0.0.1"]


def test_audit_run_on_a_live_directory_adds_posture_and_the_cli_shows_it(slapd_factory,
                                                                        tmp_path):
    server = slapd_factory(fixture_path("example"))
    with Directory.connect(server.urls["ldaps"], ca_file=server.ca_file) as d:
        f = audit.run(d)
    assert {"LDAP-06"} <= ids(f)  # ldaps only: the clear bind is not probed, not guessed
    assert "LDAP-01" not in ids(f)
    assert f.attrs["posture"][0]["url"] == server.urls["ldaps"]
    embedded = audit.run(Directory.embedded("contoso"), now=dt.datetime(2026, 11, 1,
                                                                         tzinfo=dt.UTC))
    assert not any(r.startswith("LDAP-") for r in embedded["rule_id"])
    with pytest.raises(audit.LdapnbError, match="live Directory"):
        audit.run(Directory.embedded("contoso"), posture=True)

    from ldapnb.cli import main

    out = tmp_path / "findings.csv"
    code = main(["audit", server.urls["ldap"], "-o", str(out), "--ca-file",
                 str(server.ca_file)])
    assert code == 0
    text = out.read_text()
    assert "LDAP-01" in text and "LDAP-06" in text


def test_catalogue_lists_the_posture_rules():
    r = audit.rules().set_index("rule_id")
    for rule_id in ("LDAP-00", "LDAP-01", "LDAP-02", "LDAP-03", "LDAP-04", "LDAP-05",
                    "LDAP-06"):
        assert r.loc[rule_id, "needs_live"], rule_id
        assert r.loc[rule_id, "remediation"]
    assert r.loc["LDAP-01", "pingcastle"] == "A-DCLdapSign"
    assert r.loc["LDAP-06", "attack"] == "T1087.002"


# -- Samba: a hardened DC (strong auth required) ----------------------------------------------


def test_samba_dc_refuses_clear_binds_with_stronger_auth_required(samba_contoso):
    dc = samba_contoso
    f = audit.posture([dc.urls["ldap"], dc.urls["ldaps"]], ca_file=dc.ca_file)
    assert "LDAP-01" not in ids(f)
    probed = f[(f.rule_id == "LDAP-00") & (f.subject == dc.urls["ldap"])].iloc[0]["evidence"]
    assert probed["active_directory"] is True
    assert probed["clear_bind"]["refused"] and probed["clear_bind"]["result"] == 8
    assert "strongerAuthRequired" in probed["steps"]["simple bind in clear"]
    # its certificate names dc1.contoso.com (the rootDSE's dnsHostName) and the IP
    assert not ids(f) & {"LDAP-02", "LDAP-03", "LDAP-04", "LDAP-05"}, f[["rule_id",
                                                                         "evidence"]]
    # Samba shows an anonymous client each naming context's head (no attributes), nothing
    # below it: not a finding, but recorded
    assert "LDAP-06" not in ids(f), f[f.rule_id == "LDAP-06"]["evidence"].tolist()
    anon = probed["anonymous_read"]
    assert anon["readable"] == {} and "DC=contoso,DC=com" in anon["heads_only"]
