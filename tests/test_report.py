"""Reports: CSV and XLSX round trips, and the HTML report rendered in headless Chromium."""

from __future__ import annotations

import concurrent.futures
import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from ldapnb import Directory, audit
from ldapnb.errors import LdapnbError
from ldapnb.report import svg_graph, to_html

REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)
C = "DC=contoso,DC=com"
HENRY = "CN=Henry Adams,OU=IT,OU=Corp,DC=contoso,DC=com"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def contoso():
    return Directory.embedded("contoso")


@pytest.fixture(scope="module")
def findings(contoso):
    return audit.run(contoso, now=REFERENCE)


def test_csv_round_trip(findings, tmp_path):
    path = audit.report(findings, tmp_path / "audit.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == ["check", "severity", "subject", "evidence", "rule", "rule_id",
                                  "pingcastle", "attack", "chain", "remediation", "waived",
                                  "waiver"]
    assert len(back) == len(findings)
    row = back[back["check"] == "privileged-no-preauth"].iloc[0]
    assert row["subject"] == HENRY and row["severity"] == "high"
    assert json.loads(row["evidence"])["userAccountControl"] == 4194816


def test_xlsx_has_summary_and_findings(findings, tmp_path):
    from openpyxl import load_workbook

    path = audit.report(findings, tmp_path / "audit.xlsx", title="Contoso")
    book = load_workbook(path)
    assert book.sheetnames == ["Summary", "Findings", "Rules"]
    rows = list(book["Findings"].values)
    assert rows[0] == ("check", "severity", "subject", "evidence", "rule", "rule_id",
                       "pingcastle", "attack", "chain", "remediation", "waived", "waiver")
    assert len(rows) == len(findings) + 1
    assert any(r[0] == "privileged-kerberoastable" and "BackupAgent" in r[3] for r in rows)
    summary = {(r[0], r[1]): r[2] for r in book["Summary"].values}
    assert summary[("severity", "high")] == int((findings["severity"] == "high").sum()) == 17
    assert ("source", "Directory embedded 'contoso'") in summary  # what was audited, as of when
    assert ("as of", "2026-11-01T00:00:00+00:00") in summary
    rules = list(book["Rules"].values)
    assert rules[0][:5] == ("rule_id", "check", "severity", "pingcastle", "attack")
    assert len(rules) - 1 == len(audit.rules())
    assert summary[("check", "privileged-member")] == int(
        (findings["check"] == "privileged-member").sum())


def test_bad_extension_and_bad_findings(findings, tmp_path):
    with pytest.raises(LdapnbError, match="use .html, .xlsx or .csv"):
        audit.report(findings, tmp_path / "audit.pdf")
    with pytest.raises(LdapnbError, match="lack the column"):
        audit.report(pd.DataFrame({"check": []}), tmp_path / "a.csv")


def test_html_is_self_contained(findings, contoso):
    page = to_html(findings, G=contoso.graph(), title="Contoso <audit>")
    assert "Contoso &lt;audit&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<script" not in page and "<link" not in page
    assert page.count("<svg") == 1
    assert "Dana Okafor" in page and "Ops Escalation L3" in page


def test_svg_graph_layers_and_truncation():
    chains = [["uid=a,dc=x", "cn=team,dc=x", "cn=admins,dc=x"], ["uid=b,dc=x", "cn=admins,dc=x"]]
    svg = svg_graph(chains)
    assert svg.count("<rect") == 4 and svg.count("<polyline") == 3
    assert svg_graph([]) == ""
    small = svg_graph(chains, max_nodes=3)
    assert small.count("<rect") == 3 and "only the first 3 nodes" in small


def test_report_names_its_source_date_version_and_catalogue(findings, contoso):
    from ldapnb import __version__

    page = to_html(findings, G=contoso.graph())
    assert "source <b>Directory embedded &#x27;contoso&#x27;</b>" in page
    assert "as of <b>2026-11-01T00:00:00+00:00</b>" in page
    assert f"by ldapnb {__version__}" in page
    assert '<h2 id="rules">Rule catalogue</h2>' in page
    assert page.count("<tr><td>ACL-") == 5 and "P-UnconstrainedDelegation" in page


def test_chain_picture_has_no_edge_through_a_label(findings, contoso):
    from ldapnb import graph, security, svg
    from ldapnb.report import _chains

    H = graph.with_rights(contoso.graph(), security.edges(security.aces(contoso)))
    chains = _chains(findings)
    layout = svg.layout(chains, H)
    assert len(layout.boxes) > 40 and layout.crossings() == []
    # rights edges are drawn as such (dashed red), memberships not
    kinds = {(u, v): k for u, v, k, _, _ in layout.edges}
    assert kinds[(f"CN=GG_Helpdesk,OU=Groups,OU=Corp,{C}", f"CN=Tier0 Ops,OU=Groups,OU=Corp,{C}")] \
        == "right"
    # a layout that would cross without routing: an edge skipping a column full of boxes
    skip = [["u1", "g1", "g2", "top"], ["u2", "top"], ["u3", "g3", "g4", "top"]]
    assert svg.layout(skip).crossings() == []


@pytest.mark.slow  # starts chromium
def test_html_report_renders_in_headless_chromium(findings, contoso, tmp_path):
    from playwright.sync_api import sync_playwright

    path = audit.report(findings, tmp_path / "audit.html", directory=contoso,
                        title="Contoso audit")
    shot = tmp_path / "audit.png"

    def look() -> tuple[str, dict | None]:
        with sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path="/usr/bin/chromium", headless=True,
                args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_viewport_size({"width": 1280, "height": 900})
                page.goto(path.resolve().as_uri())
                page.screenshot(path=str(shot), full_page=True)
                return page.inner_text("body"), page.locator("svg").bounding_box()
            finally:
                browser.close()

    # Playwright's sync API refuses a thread with an asyncio loop, which an earlier test on
    # the same worker (a kernel client) may have left: drive the browser from a fresh thread
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        text, svg_box = pool.submit(look).result(timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert "Summary" in text and "Contoso audit" in text
    assert "privileged-no-preauth" in text and HENRY in text
    assert svg_box is not None and svg_box["width"] > 300 and svg_box["height"] > 100
