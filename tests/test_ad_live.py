"""The audit on a live Active Directory (a Samba AD DC) equals the audit of its snapshot, and
a non-administrator reads the security descriptors (SD flags control).

Opt-in until ``Directory.samba`` (issue 13) lands: set ``LDAPNB_AD_URL`` (ldaps://...),
``LDAPNB_AD_USER`` (a NON-admin account, UPN), ``LDAPNB_AD_PASSWORD`` and
``LDAPNB_AD_CA`` to run it against a DC, e.g. one made with the Samba recipe and the steps
in tests/data/README.md.  With ``Directory.samba`` available it runs on its own, and under
CI=true it fails when no DC can be reached.
"""

from __future__ import annotations

import os
import warnings
from datetime import UTC, datetime

import pytest

from ldapnb import Directory, audit, security

#: the session's Samba DC (unless LDAPNB_AD_URL names another): on the samba lane's worker
pytestmark = pytest.mark.samba

NOW = datetime(2026, 12, 4, tzinfo=UTC)


@pytest.fixture(scope="module")
def live(request):
    """A non-administrator's connection to an AD DC: ``LDAPNB_AD_URL`` (and user, password,
    CA) when set, else the session's private Samba DC loaded with contoso (as the ordinary
    user grace.lee; its start fails the test under CI, never skips)."""
    url = os.environ.get("LDAPNB_AD_URL")
    if url:
        d = Directory.connect(url, user=os.environ["LDAPNB_AD_USER"],
                              password=os.environ["LDAPNB_AD_PASSWORD"],
                              ca_file=os.environ.get("LDAPNB_AD_CA"))
    else:
        from ldapnb.sources.samba import DEMO_PASSWORD

        dc = request.getfixturevalue("samba_contoso")
        d = Directory.connect(dc.urls["ldaps"], user="CONTOSO\\grace.lee",
                              password=DEMO_PASSWORD, ca_file=dc.ca_file)
    yield d
    d.close()


def test_non_admin_reads_descriptors_with_the_sd_flags_control(live):
    found = dict(live.source.security_descriptors())
    head = live.base
    assert head in found or head.lower() in {k.lower() for k in found}
    frame = security.aces(found)
    assert (frame["type"] == "allow").any() and frame["owner"].notna().all()
    # without the control AD gives a non-admin no descriptor at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = live.search("(objectClass=domain)", base=head, scope="base",
                            attributes=["nTSecurityDescriptor"])
    column = plain.get("nTSecurityDescriptor")
    assert column is None or column.isna().all() or not any(
        isinstance(v, bytes) and v for v in column)


def test_live_audit_equals_the_audit_of_its_snapshot(live):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on_live = audit.run(live, now=NOW)
        entries = audit._load(live)
    on_snapshot = audit.run(entries, now=NOW)

    live_only = set(audit.rules().query("needs_live")["check"])  # probes of the live DC
    assert live_only & set(on_live["check"]), "the live audit probed the DC's LDAP posture"

    def key(f):
        f = f[~f["check"].isin(live_only)]
        return sorted(zip(f["check"], f["subject"].str.lower(), f["severity"].astype(str),
                          strict=True))

    assert key(on_live) == key(on_snapshot)
    coverage = on_live[on_live["check"] == "acl-coverage"]
    assert coverage.empty or coverage["evidence"].iloc[0]["tier0_not_covered"] == []
    # a fresh domain's stock groups are never "empty group" findings (issue 13 part 5)
    empty = {s.split(",")[0].lower() for s in on_live.loc[on_live["check"] == "empty-group",
                                                          "subject"]}
    assert not empty & {"cn=print operators", "cn=account operators", "cn=server operators",
                        "cn=schema admins", "cn=enterprise admins", "cn=dnsadmins"}
