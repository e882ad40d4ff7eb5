"""The teacher's side of the network lessons' exercises (05.3-12.3): one solution each, in the
convention of :mod:`ldapnb.teach.solutions` (a function returning the check's arguments).

A lesson never imports this module; tests/test_exercises.py and tests/test_teach_network.py
run every solution through its check.
"""

from __future__ import annotations

import ssl
from typing import Any

from ._checking import _solution

__all__: list[str] = []

ALICE = "uid=alice,ou=People,dc=example,dc=com"


def _verifying_tls(ca_file: str) -> Any:
    import ldap3

    return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)


def _starttls_connect(host: str, port: int, ca_file: str, user: str, password: str) -> Any:
    import ldap3

    server = ldap3.Server(host, port=port, tls=_verifying_tls(ca_file), get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=user, password=password)
    conn.open()
    conn.start_tls()           # first TLS (the certificate is verified here) ...
    conn.bind()                # ... then the password, inside it
    return conn


@_solution("05.3")
def _sniffed(capture: Any) -> tuple[Any, ...]:
    from .net_exercises import simple_password

    return (capture, simple_password(capture))


@_solution("05.4")
def _cldap() -> tuple[Any, ...]:
    return ("UDP",)


@_solution("06.3")
def _tls(server: Any) -> tuple[Any, ...]:
    return (server, _verifying_tls)


@_solution("07.3")
def _starttls(server: Any) -> tuple[Any, ...]:
    return (server, _starttls_connect)


@_solution("09.2")
def _outage(lab: Any) -> tuple[Any, ...]:
    return (lab, lab.truth())


@_solution("09.3")
def _whoami(server: Any, password_file: Any) -> tuple[Any, ...]:
    return (server, password_file, ["ldapwhoami", "-x", "-ZZ", "-H", server.urls["ldap"],
                                    "-D", ALICE, "-y", str(password_file)])


@_solution("12.1")
def _code() -> tuple[Any, ...]:
    return (8,)


@_solution("12.2")
def _entra_ports() -> tuple[Any, ...]:
    return ({53, 80, 88, 135, 389, 443, 445, *range(49152, 65536)},)


@_solution("12.3")
def _gc_only(recording: Any) -> tuple[Any, ...]:
    gc = recording["global_catalog"]
    pas = {a.lower() for a in gc["partial attribute set"]}
    return (recording, next(a for a in gc["389"]["attributes"] if a.lower() not in pas))
