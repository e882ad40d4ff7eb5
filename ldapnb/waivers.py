"""Accepted risks: a TOML file of waivers that :func:`ldapnb.audit.run` applies.

A waiver names a rule, an object, why the risk is accepted, who owns that decision and
until when::

    [[waiver]]
    rule = "kerberoastable"          # a check name or a rule ID (KRB-05)
    object = "svc_sql"               # a DN, a sAMAccountName, or "*" for every subject
    reason = "SQL Server needs the SPN; 30-character random password, rotated yearly"
    owner = "dba-team@contoso.com"
    expires = 2027-06-30             # a TOML date

Waived findings stay in the findings, with ``waived=True`` and the waiver's text, so a
report still shows them.  A waiver past its ``expires`` date waives nothing and is itself a
finding (``waiver-expired``): accepted risks are reviewed, not forgotten.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .checks import CHECKS, Context, check
from .dn import normalize
from .errors import LdapnbError

__all__ = ["load", "apply"]

_FIELDS = ("rule", "object", "reason", "owner", "expires")


@check("waiver-expired", "medium",
       "An accepted risk whose waiver has expired must be reviewed again: either fixed, or "
       "accepted again with a new date by its owner.", rule_id="WAIV-01",
       remediation="Fix the finding, or renew the waiver (new reason, owner, date).")
def _never(ctx: Context) -> Iterator[dict[str, Any]]:
    return iter(())  # waivers.apply adds these rows


def load(source: str | os.PathLike[str] | Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Read and check waivers from a TOML file (``[[waiver]]`` tables) or a list of dicts.

    Raises
    ------
    LdapnbError
        A missing file, bad TOML, a waiver without one of rule/object/reason/owner/expires,
        an unknown rule, or a date that is not a date (the message says which waiver).

    Examples
    --------
    >>> w = load([{"rule": "KRB-05", "object": "svc_sql", "reason": "needed",
    ...            "owner": "dba", "expires": "2027-01-31"}])
    >>> w[0]["check"], w[0]["expires"]
    ('kerberoastable', datetime.date(2027, 1, 31))
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise LdapnbError(f"{path}: no such waivers file")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise LdapnbError(f"{path}: not valid TOML ({exc})") from exc
        items = data.get("waiver", [])
        where = str(path)
    else:
        items, where = list(source), "waivers"
    by_id = {c.rule_id: c.name for c in CHECKS.values() if c.rule_id}
    out = []
    for n, item in enumerate(items, 1):
        missing = [f for f in _FIELDS if not item.get(f)]
        if missing:
            raise LdapnbError(f"{where}: waiver #{n} lacks {', '.join(missing)}")
        rule = str(item["rule"])
        name = rule if rule in CHECKS else by_id.get(rule)
        if name is None:
            raise LdapnbError(f"{where}: waiver #{n}: unknown rule {rule!r} (see audit.rules())")
        expires = item["expires"]
        if isinstance(expires, datetime):
            expires = expires.date()
        elif isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires)
            except ValueError as exc:
                raise LdapnbError(f"{where}: waiver #{n}: expires {expires!r} is not a "
                                  "YYYY-MM-DD date") from exc
        elif not isinstance(expires, date):
            raise LdapnbError(f"{where}: waiver #{n}: expires must be a date")
        out.append({**{f: item[f] for f in _FIELDS}, "check": name, "expires": expires,
                    "number": n})
    return out


def _matches(waiver: dict[str, Any], row: dict[str, Any],
             name: Callable[[str], str]) -> bool:
    if waiver["check"] != row["check"]:
        return False
    wanted = str(waiver["object"])
    if wanted == "*":
        return True
    subject = str(row["subject"])
    if wanted.casefold() == name(subject).casefold():
        return True
    try:
        return normalize(wanted) == normalize(subject)
    except LdapnbError:
        return wanted.casefold() == subject.casefold()


def apply(rows: list[dict[str, Any]], waivers: Any, *, now: datetime,
          name: Callable[[str], str] = str) -> list[dict[str, Any]]:
    """Mark the findings rows the waivers cover; add a finding for each expired waiver."""
    today = now.astimezone(UTC).date()
    expired_rule = CHECKS["waiver-expired"]
    out = list(rows)
    for waiver in load(waivers):
        text = f"{waiver['reason']} (owner {waiver['owner']}, until {waiver['expires']})"
        if waiver["expires"] < today:
            out.append({
                "check": expired_rule.name, "severity": expired_rule.severity,
                "subject": str(waiver["object"]),
                "evidence": {"rule": waiver["rule"], "object": waiver["object"],
                             "reason": waiver["reason"], "owner": waiver["owner"],
                             "expired": waiver["expires"].isoformat(),
                             "days_ago": (today - waiver["expires"]).days},
                "rule": expired_rule.rule, "rule_id": expired_rule.rule_id,
                "pingcastle": "", "attack": "", "chain": [],
                "remediation": expired_rule.remediation, "waived": False, "waiver": None})
            continue
        for row in out:
            if not row["waived"] and _matches(waiver, row, name):
                row["waived"] = True
                row["waiver"] = text
    return out
