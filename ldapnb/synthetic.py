"""Synthetic directories of any size, for benchmarks and scale tests.

:func:`generate` streams the entries of a made-up directory (parents before children) with
``n_users`` people, groups nested ``depth`` levels deep, a known number of membership cycles,
and every user in one to four groups.  The same ``seed`` gives the same entries, byte for
byte.  :func:`write_ldif` writes them to a file.

The shape, in both styles (``"openldap"``: inetOrgPerson + groupOfNames; ``"ad"``: Active
Directory ``user`` + ``group`` with SIDs, GUIDs, userAccountControl ...):

- the suffix, a People (AD: ``OU=Corp``) branch with ten department OUs, a Groups OU;
- groups in ``depth + 1`` levels: a level-0 group holds users; a group on level ``L > 0``
  holds one to three groups of level ``L - 1`` (and a few users), so the top groups have
  ``depth`` levels of groups below them and the longest member chain is user -> level 0 ->
  ... -> level ``depth``;
- ``cycles`` extra rings of three groups each (``cycle-K-a`` in ``cycle-K-b`` in ``cycle-K-c``
  in ``cycle-K-a``), ``cycle-K-a`` also a member of one group on level ``min(3, depth)``:
  the member graph has exactly ``cycles`` simple cycles, and for ``depth >= 3`` no acyclic
  member chain is longer than user -> level 0 -> ... -> level ``depth``.

A few small helpers for Active Directory values (:func:`sid_to_bytes`, :func:`filetime`,
:func:`security_descriptor`) are public because the bundled ``contoso`` fixture's generator
uses them too.

Examples
--------
>>> entries = list(generate(50, depth=3, cycles=1, seed=7))
>>> entries[0].dn
'dc=example,dc=org'
>>> sum(1 for e in entries if "inetOrgPerson" in e["objectClass"])
50
>>> [e.dn for e in generate(50, depth=3, cycles=1, seed=7)] == [e.dn for e in entries]
True
"""

from __future__ import annotations

import os
import random
import struct
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from . import ad
from .entry import Entry
from .errors import LdapnbError

__all__ = [
    "generate",
    "write_ldif",
    "sid_to_bytes",
    "filetime",
    "security_descriptor",
    "guid_bytes",
    "NEVER",
]

#: accountExpires value meaning "never" (the other "never" is 0).
NEVER = 9223372036854775807


_DEPARTMENTS = ("Sales", "Engineering", "Finance", "HR", "IT", "Marketing", "Legal",
                "Support", "Research", "Operations")
_FIRST = ("Ada", "Ben", "Chloe", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas",
          "Kemal", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven",
          "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zofia")
_LAST = ("Abara", "Bergstrom", "Castillo", "Dufresne", "Eriksen", "Fontaine", "Grieve",
         "Halvorsen", "Iwata", "Jovanovic", "Kowal", "Lindqvist", "Moreau", "Nakamura",
         "Okonkwo", "Petrakis", "Quist", "Rahimi", "Sandoval", "Takeda", "Urquhart", "Varga",
         "Whitlock", "Xu", "Yilmaz", "Zamora")

#: Fixed reference time of every synthetic timestamp (so output does not depend on today).
_REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)


# -- Active Directory value helpers ---------------------------------------------------------


def sid_to_bytes(sid: str) -> bytes:
    """The binary ``objectSid`` form of a SID written ``S-1-5-21-...`` (MS-DTYP 2.4.2.2), by
    :func:`ldapnb.ad.sid_to_bytes`, the one implementation.

    Examples
    --------
    >>> sid_to_bytes("S-1-5-32-544").hex()
    '01020000000000052000000020020000'
    """
    return ad.sid_to_bytes(sid)


def filetime(when: datetime) -> int:
    """``when`` as a Windows FILETIME (100 ns ticks since 1601-01-01 UTC), as AD stores
    pwdLastSet, lastLogonTimestamp and accountExpires: :func:`ldapnb.ad.datetime_to_filetime`.

    Examples
    --------
    >>> filetime(datetime(1970, 1, 1, tzinfo=UTC))
    116444736000000000
    """
    return ad.datetime_to_filetime(when)


def security_descriptor(owner_sid: str) -> bytes:
    """A minimal self-relative security descriptor (owner and group ``owner_sid``, no ACLs).

    ``nTSecurityDescriptor`` is a MUST attribute of msuser.schema's ``mstop`` class, so every
    AD-style entry needs one; this is the smallest well-formed value (MS-DTYP 2.4.6).

    Examples
    --------
    >>> security_descriptor("S-1-5-32-544")[:4].hex()
    '01000080'
    """
    owner = sid_to_bytes(owner_sid)
    header = struct.pack("<BBHIIII", 1, 0, 0x8000, 20, 20 + len(owner), 0, 0)
    return header + owner + owner


def guid_bytes(rng: random.Random) -> bytes:
    """A random (version 4) GUID from ``rng``, in AD's little-endian ``objectGUID`` layout."""
    return uuid.UUID(int=rng.getrandbits(128), version=4).bytes_le


def _generalized(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S.0Z")


# -- the generator --------------------------------------------------------------------------


def generate(
    n_users: int,
    *,
    n_groups: int | None = None,
    depth: int = 6,
    cycles: int = 3,
    style: str = "openldap",
    seed: int = 0,
    suffix: str | None = None,
) -> Iterator[Entry]:
    """Stream the entries of a synthetic directory, parents first.

    Parameters
    ----------
    n_users : int
        How many people (at least 1).
    n_groups : int, optional
        How many nesting groups besides the cycle rings; default ``max(depth + 1,
        n_users // 10)``.  At least ``depth + 1``.
    depth : int
        Levels of groups below the top groups (at least 0).
    cycles : int
        How many membership rings of three groups to add (at least 0).
    style : {"openldap", "ad"}
        ``"openldap"``: inetOrgPerson people and groupOfNames groups under
        ``dc=example,dc=org``; ``"ad"``: Active Directory users and groups under
        ``DC=example,DC=com`` (msuser.schema classes, with objectSid, objectGUID,
        userAccountControl, primaryGroupID 513 and the Domain Users group).
    seed : int
        Same seed, same entries.
    suffix : str, optional
        The naming context (default depends on ``style``); its first RDN must be ``dc=``.

    Yields
    ------
    Entry
        Suffix, OUs, users, then groups (group ``member`` values point at users and groups).

    Raises
    ------
    LdapnbError
        An unknown style or a count out of range.

    Examples
    --------
    >>> top = [e for e in generate(30, depth=2, cycles=0) if e.dn.startswith("cn=level-2")]
    >>> top[0]["member"][0].split(",")[0]
    'cn=level-1-0001'
    """
    if style not in ("openldap", "ad"):
        raise LdapnbError(f"unknown style {style!r}: use 'openldap' or 'ad'")
    if n_users < 1 or depth < 0 or cycles < 0:
        raise LdapnbError(
            f"need n_users >= 1, depth >= 0, cycles >= 0 (got {n_users}, {depth}, {cycles})")
    levels = depth + 1
    n_groups = max(levels, n_users // 10) if n_groups is None else n_groups
    if n_groups < levels:
        raise LdapnbError(f"n_groups={n_groups} is too few for depth={depth}: need {levels}")
    ad = style == "ad"
    base = suffix or ("DC=example,DC=com" if ad else "dc=example,dc=org")
    first_rdn = base.split(",", 1)[0]
    if not first_rdn.lower().startswith("dc="):
        raise LdapnbError(f"suffix {base!r} must start with a dc= RDN")
    rng = random.Random(seed)
    maker: _AdMaker | _OpenLdapMaker = _AdMaker(base, rng) if ad else _OpenLdapMaker(base)

    yield maker.root(first_rdn.split("=", 1)[1])
    people = maker.container("Corp" if ad else "People")
    yield people
    dept_dns = []
    for dept_name in _DEPARTMENTS:
        ou = maker.ou(dept_name, people.dn)
        dept_dns.append(ou.dn)
        yield ou
    groups_parent = maker.container("Groups")
    yield groups_parent
    if ad:
        yield from maker.extra_parents()

    # Groups: level of group j is j % levels, so every level has at least one group.
    names = [f"level-{j % levels}-{j // levels + 1:04d}" for j in range(n_groups)]
    by_level: list[list[int]] = [[] for _ in range(levels)]
    for j in range(n_groups):
        by_level[j % levels].append(j)
    group_dns = [maker.group_dn(name, groups_parent.dn) for name in names]
    members: list[list[str]] = [[] for _ in range(n_groups)]
    # each group above level 0 holds 1-3 groups from the level below (the first one fixed,
    # so a chain from every top group down to level 0 always exists)
    for level in range(1, levels):
        below = by_level[level - 1]
        for k, j in enumerate(by_level[level]):
            chosen = {below[k % len(below)]}
            chosen.update(rng.sample(below, min(len(below), rng.randint(0, 2))))
            members[j].extend(group_dns[i] for i in sorted(chosen))

    level0 = by_level[0]
    weights = (1, 1, 1, 2, 2, 3, 4)  # groups per user: mostly 1-2
    user_dns: list[str] = []
    for i in range(n_users):
        dept = i % len(_DEPARTMENTS)
        user = maker.user(i, dept_dns[dept], dept, rng)
        user_dns.append(user.dn)
        # one level-0 group by round robin (so none is empty), 0-3 more anywhere
        members[level0[i % len(level0)]].append(user.dn)
        for j in rng.sample(range(n_groups), weights[rng.randrange(len(weights))] - 1):
            if user.dn not in members[j][-1:]:
                members[j].append(user.dn)
        yield user

    # Cycle rings: a in b, b in c, c in a, one user in each; a is also a member of one group
    # on level min(3, depth), so rings are reachable and (for depth >= 3) make no member
    # chain longer than ``depth``.
    hang = by_level[min(3, depth)]
    rings: list[tuple[str, list[str]]] = []
    for k in range(1, cycles + 1):
        ring = [f"cycle-{k}-{x}" for x in "abc"]
        ring_dns = [maker.group_dn(name, groups_parent.dn) for name in ring]
        members[hang[(k - 1) % len(hang)]].append(ring_dns[0])
        for x, name in enumerate(ring):
            rings.append((name, [ring_dns[(x - 1) % 3], user_dns[(3 * k + x) % len(user_dns)]]))

    for j in range(n_groups):
        if not members[j]:  # only when there are more level-0 groups than users
            members[j].append(user_dns[j % len(user_dns)])
        yield maker.group(names[j], groups_parent.dn, members[j])
    for name, ring_members in rings:
        yield maker.group(name, groups_parent.dn, ring_members)


class _OpenLdapMaker:
    def __init__(self, base: str):
        self.base = base

    def root(self, dc: str) -> Entry:
        return Entry(self.base, {"objectClass": ["top", "dcObject", "organization"],
                                 "dc": [dc], "o": [f"Synthetic {dc}"]})

    def container(self, name: str) -> Entry:
        return self.ou(name, self.base)

    def ou(self, name: str, parent: str) -> Entry:
        return Entry(f"ou={name},{parent}", {"objectClass": ["top", "organizationalUnit"],
                                             "ou": [name]})

    def group_dn(self, name: str, parent: str) -> str:
        return f"cn={name},{parent}"

    def user(self, i: int, parent: str, dept: int, rng: random.Random) -> Entry:
        given = _FIRST[i % len(_FIRST)]
        sn = _LAST[(i // len(_FIRST) + dept) % len(_LAST)]
        uid = f"user{i + 1:06d}"
        return Entry(f"uid={uid},{parent}", {
            "objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson",
                            "posixAccount"],
            "uid": [uid], "cn": [f"{given} {sn}"], "sn": [sn], "givenName": [given],
            "mail": [f"{uid}@example.org"], "employeeNumber": [str(100000 + i)],
            "departmentNumber": [_DEPARTMENTS[dept]],
            "uidNumber": [str(20000 + i)], "gidNumber": [str(10000 + dept)],
            "homeDirectory": [f"/home/{uid}"], "loginShell": ["/bin/bash"],
        })

    def group(self, name: str, parent: str, members: list[str]) -> Entry:
        return Entry(f"cn={name},{parent}", {"objectClass": ["top", "groupOfNames"],
                                             "cn": [name], "member": members})

    def extra_parents(self) -> Iterator[Entry]:
        return iter(())


class _AdMaker:
    """Active Directory style entries (msuser.schema): every entry carries mstop's MUST
    attributes (instanceType, nTSecurityDescriptor, objectCategory)."""

    DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"

    def __init__(self, base: str, rng: random.Random):
        self.base = base
        self.rng = rng
        self.rid = 1100
        self.sd = security_descriptor(self.DOMAIN_SID + "-512")
        self.config = "CN=Schema,CN=Configuration," + base
        self.dns = ".".join(p.split("=", 1)[1] for p in base.split(","))
        self.domain_users = f"CN=Domain Users,CN=Users,{base}"

    def _mstop(self, category: str) -> dict[str, list]:
        return {"instanceType": ["4"], "nTSecurityDescriptor": [self.sd],
                "objectCategory": [f"CN={category},{self.config}"],
                "objectGUID": [guid_bytes(self.rng)]}

    def _next_sid(self) -> bytes:
        self.rid += 1
        return sid_to_bytes(f"{self.DOMAIN_SID}-{self.rid}")

    def root(self, dc: str) -> Entry:
        return Entry(self.base, {"objectClass": ["top", "domain", "extensibleObject"],
                                 "dc": [dc], "objectSid": [sid_to_bytes(self.DOMAIN_SID)]})

    def container(self, name: str) -> Entry:
        return self.ou(name, self.base)

    def ou(self, name: str, parent: str) -> Entry:
        return Entry(f"OU={name},{parent}", {"objectClass": ["top", "organizationalUnit"],
                                             "ou": [name]})

    def extra_parents(self) -> Iterator[Entry]:
        users = Entry(f"CN=Users,{self.base}", {
            "objectClass": ["top", "organizationalRole"], "cn": ["Users"],
            "description": ["Default container for upgraded user accounts"]})
        yield users
        for name, rid in (("Domain Admins", 512), ("Domain Users", 513)):
            attrs = self._mstop("Group")
            attrs.update({"objectClass": ["top", "group", "extensibleObject"], "cn": [name],
                          "sAMAccountName": [name], "groupType": ["-2147483646"],
                          "objectSid": [sid_to_bytes(f"{self.DOMAIN_SID}-{rid}")]})
            if rid == 512:
                attrs["adminCount"] = ["1"]
                attrs["member"] = [f"CN=user000001,OU={_DEPARTMENTS[0]},OU=Corp,{self.base}"]
            yield Entry(f"CN={name},CN=Users,{self.base}", attrs)

    def group_dn(self, name: str, parent: str) -> str:
        return f"CN={name},{parent}"

    def user(self, i: int, parent: str, dept: int, rng: random.Random) -> Entry:
        given = _FIRST[i % len(_FIRST)]
        sn = _LAST[(i // len(_FIRST) + dept) % len(_LAST)]
        sam = f"user{i + 1:06d}"
        logon = _REFERENCE - timedelta(days=rng.randrange(120), seconds=rng.randrange(86400))
        pwd = _REFERENCE - timedelta(days=rng.randrange(400))
        attrs = self._mstop("Person")
        attrs.update({
            "objectClass": ["top", "person", "organizationalPerson", "user",
                            "extensibleObject"],
            "cn": [sam], "sn": [sn], "givenName": [given], "displayName": [f"{given} {sn}"],
            "sAMAccountName": [sam], "userPrincipalName": [f"{sam}@{self.dns}"],
            "objectSid": [self._next_sid()], "primaryGroupID": ["513"],
            "userAccountControl": ["514" if rng.random() < 0.05 else "512"],
            "sAMAccountType": ["805306368"], "departmentNumber": [_DEPARTMENTS[dept]],
            "pwdLastSet": [str(filetime(pwd))], "lastLogonTimestamp": [str(filetime(logon))],
            "accountExpires": [str(NEVER)],
            "whenCreated": [_generalized(pwd - timedelta(days=rng.randrange(1500)))],
        })
        return Entry(f"CN={sam},{parent}", attrs)

    def group(self, name: str, parent: str, members: list[str]) -> Entry:
        attrs = self._mstop("Group")
        attrs.update({"objectClass": ["top", "group", "extensibleObject"], "cn": [name],
                      "sAMAccountName": [name], "groupType": ["-2147483646"],
                      "sAMAccountType": ["268435456"], "objectSid": [self._next_sid()],
                      "member": members})
        return Entry(f"CN={name},{parent}", attrs)


def write_ldif(path: str | os.PathLike[str], n_users: int, **kw: object) -> int:
    """Write :func:`generate`'s entries to an LDIF file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (UTF-8, LF line ends).
    n_users : int
        How many people.
    **kw
        Any other argument of :func:`generate` (``n_groups``, ``depth``, ``cycles``,
        ``style``, ``seed``, ``suffix``).

    Returns
    -------
    int
        The number of entries written.

    Notes
    -----
    The file has no ``version: 1`` line, so OpenLDAP's ``slapadd`` (which refuses one)
    loads it as it is.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_ldif(pathlib.Path(tmp) / "s.ldif", 20, depth=2, cycles=1)
    39
    """
    from .ldif import write

    return write(generate(n_users, **kw), path, version=False)  # type: ignore[arg-type]
