"""Firewalls in front of a directory: the port matrix, and what each kind of rule looks like.

- :func:`port_matrix`: the ports an LDAP server and an Active Directory domain controller use
  (53, 88, 135, 389 TCP and UDP, 445, 464, 636, 3268/3269, the dynamic RPC range), what each
  carries and whether it is protected.
- :func:`lab`: one private slapd, several "client sites" in front of it, each behind another
  firewall rule (allowed, DROP, REJECT with a TCP reset, REJECT with an ICMP error, a
  stateful firewall that forgets idle connections, nothing listening, the wrong protocol on an
  open port).  Each site probes a TCP connect and then a real LDAP search, and the table says
  what a client sees: a *reset* (instant "connection refused"), a *timeout*, an ICMP error,
  or a connect that works while LDAP does not.

  **Real or simulated.**  As root on Linux with ``unshare`` and ``nft`` (nftables), the lab
  runs inside a *new network namespace* made for it (``unshare --net``): its own loopback,
  its own nftables rules, its own conntrack table; the machine's own firewall and interfaces
  are never touched and everything disappears with the process.  Anywhere else (Binder runs
  as an ordinary user) the same probes run on the machine's loopback and the firewall is
  *simulated*: a closed port for the reset (a REJECT ``tcp-reset`` sends exactly that), a
  listener whose accept queue is full for the drop (the kernel then ignores the SYN, as a
  DROP rule does), a relay that goes silent after an idle time for the stateful firewall; the
  ICMP case needs the namespace.  :attr:`Lab.how` says which, and every row says whether it
  was real.
- :func:`entra_connect_flows`: the network flows of Microsoft Entra Connect Sync (reads AD on
  389 with Kerberos signing and sealing, writes to Entra ID on 443), to reason about a
  hybrid set-up's firewall; :func:`blocked_flows` says which flows a list of allowed ports
  breaks.

Sources: Microsoft, "Service overview and network port requirements for Windows" and "How to
configure a firewall for Active Directory domains and trusts"; "Microsoft Entra Connect:
Hybrid identity required ports and protocols"; RFC 9293 (TCP: a segment to a closed port is
answered with a reset); nftables wiki ("Rejecting traffic").
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DirectoryUnavailable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AD_PORTS", "ENTRA_CONNECT_FLOWS", "CAUSES", "port_matrix", "entra_connect_flows",
           "blocked_flows", "can_isolate", "Lab", "lab", "classify"]

#: (port, protocol, service, what uses it, how it is protected)
AD_PORTS: list[tuple[str, str, str, str, str]] = [
    ("53", "TCP+UDP", "DNS", "clients find domain controllers (SRV records under "
     "_msdcs.<domain>)", "not encrypted; DNSSEC optional"),
    ("88", "TCP+UDP", "Kerberos", "logons, service tickets (the KDC)",
     "tickets encrypted with account keys"),
    ("135", "TCP", "RPC endpoint mapper", "tells RPC clients which dynamic port a service "
     "listens on (replication, management)", "RPC packet privacy when asked"),
    ("389", "TCP", "LDAP", "directory reads and writes; StartTLS; SASL binds",
     "clear unless StartTLS or SASL signing/sealing (GSSAPI, GSS-SPNEGO)"),
    ("389", "UDP", "CLDAP", "the DC locator's 'LDAP ping' (a rootDSE search for Netlogon)",
     "not encrypted, no bind"),
    ("445", "TCP", "SMB", "Group Policy files (SYSVOL), NETLOGON, named pipes",
     "SMB signing / encryption"),
    ("464", "TCP+UDP", "Kerberos kpasswd", "password changes", "Kerberos"),
    ("636", "TCP", "LDAPS", "LDAP inside TLS from the first byte", "TLS"),
    ("3268", "TCP", "Global Catalog", "forest-wide searches over a partial attribute set",
     "clear unless StartTLS or SASL signing/sealing"),
    ("3269", "TCP", "Global Catalog over TLS", "the same, inside TLS", "TLS"),
    ("49152-65535", "TCP", "dynamic RPC", "replication (DRSUAPI), Netlogon, LSA, SAM, "
     "FRS/DFSR (the port the endpoint mapper on 135 names)", "RPC packet privacy"),
]

#: (flow, from, to, port, protocol, purpose)
ENTRA_CONNECT_FLOWS: list[tuple[str, str, str, str, str, str]] = [
    ("read AD", "Entra Connect server", "domain controllers", "389", "TCP",
     "LDAP reads (imports), signed and sealed with Kerberos (SASL GSS-SPNEGO)"),
    ("Kerberos", "Entra Connect server", "domain controllers", "88", "TCP+UDP",
     "tickets for the AD DS connector account"),
    ("DNS", "Entra Connect server", "DNS servers", "53", "TCP+UDP", "find the DCs"),
    ("RPC mapper", "Entra Connect server", "domain controllers", "135", "TCP",
     "initial configuration and password hash synchronisation (then dynamic RPC)"),
    ("dynamic RPC", "Entra Connect server", "domain controllers", "49152-65535", "TCP",
     "password hash synchronisation reads hashes like a replica (DRSUAPI)"),
    ("SMB", "Entra Connect server", "domain controllers", "445", "TCP",
     "seamless SSO set-up"),
    ("write Entra ID", "Entra Connect server", "Microsoft Entra ID", "443", "TCP",
     "exports to the cloud over HTTPS (outbound only)"),
    ("CRL checks", "Entra Connect server", "certificate authorities", "80", "TCP",
     "certificate revocation lists"),
]

#: The causes the lab shows, as the exercises name them.
CAUSES = ("allowed", "drop", "reject tcp-reset", "reject icmp", "idle timeout",
          "not listening", "wrong protocol")


def port_matrix() -> pd.DataFrame:
    """The ports of LDAP and of an Active Directory domain controller, as a DataFrame.

    >>> m = port_matrix()
    >>> sorted(set(m[m.port == "389"].protocol))
    ['TCP', 'UDP']
    >>> "3268" in set(m.port)
    True
    """
    import pandas as pd

    return pd.DataFrame(AD_PORTS, columns=["port", "protocol", "service", "used for",
                                           "protection"])


def entra_connect_flows() -> pd.DataFrame:
    """The network flows of Microsoft Entra Connect Sync (AD on premises to Entra ID).

    >>> f = entra_connect_flows()
    >>> f.set_index("flow").loc["write Entra ID", "port"]
    '443'
    """
    import pandas as pd

    return pd.DataFrame(ENTRA_CONNECT_FLOWS, columns=["flow", "from", "to", "port",
                                                      "protocol", "purpose"])


def _ports_of(spec: str) -> range:
    low, _, high = spec.partition("-")
    return range(int(low), int(high or low) + 1)


def blocked_flows(allowed: Mapping[str, Iterable[int]] | Iterable[int],
                  flows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which flows a firewall breaks when only the ``allowed`` ports pass.

    Parameters
    ----------
    allowed
        The ports the firewall lets through, for every destination (a set of ints), or per
        destination (``{"domain controllers": {88, 389}, "Microsoft Entra ID": {443}}``).
        A flow over a range (dynamic RPC) passes only when the whole range is allowed.
    flows
        The flows to check (default :func:`entra_connect_flows`).

    Returns
    -------
    pandas.DataFrame
        The flows that are blocked, with the ports missing.

    Examples
    --------
    >>> b = blocked_flows({53, 88, 389, 443})
    >>> sorted(b.flow)[:3]
    ['CRL checks', 'RPC mapper', 'SMB']
    """
    table = entra_connect_flows() if flows is None else flows
    rows = []
    for row in table.itertuples(index=False):
        if isinstance(allowed, Mapping):
            open_ports = set(allowed.get(str(row.to), ()))
        else:
            open_ports = set(allowed)
        wanted = _ports_of(row.port)
        missing = [p for p in wanted if p not in open_ports]
        if missing:
            shown = (f"{missing[0]}-{missing[-1]}" if len(missing) > 1 else str(missing[0]))
            rows.append({**row._asdict(), "missing": shown})
    import pandas as pd

    return pd.DataFrame(rows, columns=[*table.columns, "missing"])


# ==========================================================================================
# The lab
# ==========================================================================================
def can_isolate() -> tuple[bool, str]:
    """Can the lab run real firewall rules in a private network namespace here?

    Returns ``(True, "")`` as root on Linux with ``unshare`` and ``nft``; otherwise
    ``(False, why)``.  ``LDAPNB_NO_NETNS=1`` forces the simulation (to try it).

    >>> ok, why = can_isolate()
    >>> isinstance(ok, bool) and (ok or bool(why))
    True
    """
    if os.environ.get("LDAPNB_NO_NETNS"):
        return False, "LDAPNB_NO_NETNS is set"
    if not sys.platform.startswith("linux"):
        return False, "network namespaces are a Linux feature"
    if os.geteuid() != 0:
        return False, "creating a network namespace needs root (Binder runs as a normal user)"
    for tool in ("unshare", "nft", "ip"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            return False, f"{tool} is not installed (Debian: apt-get install nftables iproute2)"
    return True, ""


#: The client "sites" of the lab: source address -> the rule in front of the server.
SITES: dict[str, str] = {
    "127.0.0.1": "allowed",
    "127.0.0.2": "drop",
    "127.0.0.3": "reject tcp-reset",
    "127.0.0.4": "reject icmp",
    "127.0.0.5": "idle timeout",
}

_NFT_RULES = """
table inet ldapnb_lesson {{
  chain input {{
    type filter hook input priority 0; policy accept;
    ip saddr 127.0.0.2 tcp dport {port} drop
    ip saddr 127.0.0.3 tcp dport {port} reject with tcp reset
    ip saddr 127.0.0.4 tcp dport {port} reject with icmpx type admin-prohibited
    ip saddr 127.0.0.5 tcp dport {port} ct state established accept
    ip daddr 127.0.0.5 tcp sport {port} ct state established accept
    ip saddr 127.0.0.5 tcp dport {port} tcp flags & (syn | ack) == syn ct state new accept
    ip saddr 127.0.0.5 tcp dport {port} drop
    ip daddr 127.0.0.5 tcp sport {port} drop
  }}
}}
"""


@dataclass
class Lab:
    """What each client site saw: :attr:`frame` (one row per site), :attr:`real` and
    :attr:`how` (real rules in a network namespace, or a simulation on loopback), and
    :attr:`rules` (the nftables rules used, when real)."""

    frame: pd.DataFrame
    real: bool
    how: str
    rules: str = ""
    idle: float = 1.0
    timeout: float = 1.0
    _order: list[str] = field(default_factory=list, repr=False)

    def evidence(self) -> pd.DataFrame:
        """The same rows without the cause, in a shuffled order, named "site A", "site B"...:
        what a help desk sees (the mystery-outage exercise)."""
        view = self.frame.drop(columns=["cause", "rule"]).copy()
        order = self._order or list(view.index)
        view = view.loc[order].reset_index(drop=True)
        view.insert(0, "site", [f"site {chr(65 + i)}" for i in range(len(view))])
        return view.drop(columns=["client"])

    def truth(self) -> dict[str, str]:
        """site -> cause, for the checks (the answer to :meth:`evidence`)."""
        order = self._order or list(self.frame.index)
        return {f"site {chr(65 + i)}": self.frame.loc[k, "cause"] for i, k in enumerate(order)}

    def _repr_html_(self) -> str:
        return f"<p><b>{self.how}</b></p>" + self.frame.to_html(index=False)

    def __repr__(self) -> str:
        return f"{self.how}\n{self.frame.to_string(index=False)}"


def _tcp(host: str, port: int, source: str | None, timeout: float) -> tuple[str, float, str]:
    """Try a TCP connect; return (outcome, seconds, detail)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    began = time.perf_counter()
    try:
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        outcome, detail = "connected", "the three-way handshake completed"
    except ConnectionRefusedError as exc:
        outcome, detail = "refused", f"a TCP reset came back ({exc.strerror})"
    except TimeoutError:
        outcome, detail = "timeout", f"no answer at all within {timeout:g} s"
    except OSError as exc:
        outcome, detail = "unreachable", f"an ICMP error came back ({exc.strerror})"
    finally:
        s.close()
    return outcome, round(time.perf_counter() - began, 3), detail


def _ldap(host: str, port: int, source: str | None, timeout: float, idle: float = 0.0
          ) -> tuple[str, str]:
    """A real anonymous rootDSE search with ldap3 (again after ``idle`` seconds when > 0)."""
    import ldap3

    server = ldap3.Server(host, port=port, connect_timeout=timeout, get_info=ldap3.NONE)
    where = {"source_address": source, "source_port": 0} if source else {}
    # ldap3 packs receive_timeout into SO_RCVTIMEO as whole seconds
    conn = ldap3.Connection(server, receive_timeout=max(1, round(timeout)), auto_bind=False,
                            raise_exceptions=True, **where)
    try:
        conn.open()
        conn.search("", "(objectClass=*)", search_scope=ldap3.BASE,
                    attributes=["supportedLDAPVersion"])
        if not idle:
            return "ok", "the rootDSE answered: LDAP works"
        time.sleep(idle)
        began = time.perf_counter()
        try:
            conn.search("", "(objectClass=*)", search_scope=ldap3.BASE,
                        attributes=["supportedLDAPVersion"])
        except Exception as exc:  # noqa: BLE001 - what a client sees is the lesson
            waited = time.perf_counter() - began
            return "timeout after idle", (f"first search ok; after {idle:g} s idle the next "
                                          f"one got no answer in {waited:.1f} s "
                                          f"({type(exc).__name__})")
        return "ok", f"still answering after {idle:g} s idle"
    except Exception as exc:  # noqa: BLE001
        return "failed", f"{type(exc).__name__}: {str(exc)[:90]}"
    finally:
        try:
            conn.unbind()
        except Exception:  # noqa: BLE001,S110 - closing a broken connection
            pass


def _probe_all(cases: list[dict[str, Any]], timeout: float, idle: float) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        outcome, seconds, detail = _tcp(case["host"], case["port"], case["source"], timeout)
        ldap, ldap_detail = "-", "not tried: no TCP connection"
        if outcome == "connected":
            ldap, ldap_detail = _ldap(case["host"], case["port"], case["source"], timeout,
                                      idle if case["cause"] == "idle timeout" else 0.0)
        rows.append({"client": case["source"] or "127.0.0.1", "cause": case["cause"],
                     "rule": case["rule"], "tcp connect": outcome, "seconds": seconds,
                     "tcp detail": detail, "ldap": ldap, "ldap detail": ldap_detail,
                     "real": case["real"]})
    return rows


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _inside(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run in the private network namespace (as root): rules, a slapd, the probes."""
    from ..directory import fixture_path
    from ..sources.slapd import Slapd

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with Slapd(fixture_path("tiny")) as server:
        rules = _NFT_RULES.format(port=server.port)
        subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
        with open("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established", "w") as f:
            f.write(str(int(spec["idle"])))
        cases = [{"host": "127.0.0.1", "port": server.port, "source": src, "cause": cause,
                  "rule": _rule_text(cause), "real": True} for src, cause in SITES.items()]
        cases += [{"host": "127.0.0.1", "port": _closed_port(), "source": None,
                   "cause": "not listening", "rule": "(no rule: nothing listens there)",
                   "real": True},
                  {"host": "127.0.0.1", "port": server.ldaps_port, "source": None,
                   "cause": "wrong protocol",
                   "rule": "(no rule: plain LDAP sent to the LDAPS port)", "real": True}]
        rows = _probe_all(cases, spec["timeout"], spec["idle"] + 0.6)
    return [{**r, "rules": rules} for r in rows]


def _rule_text(cause: str) -> str:
    return {"allowed": "accept",
            "drop": "drop",
            "reject tcp-reset": "reject with tcp reset",
            "reject icmp": "reject with icmpx type admin-prohibited",
            "idle timeout": "stateful: conntrack forgets an idle connection"}[cause]


class _SilentRelay:
    """A relay that forwards until a connection has been idle ``idle`` seconds, then silently
    discards everything (a stateful firewall that forgot the connection)."""

    def __init__(self, host: str, port: int, idle: float) -> None:
        self.target = (host, port)
        self.idle = idle
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = False
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            last = [time.monotonic()]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b, last), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket, last: list[float]) -> None:
        while True:
            try:
                data = a.recv(65536)
            except OSError:
                return
            if not data:
                return
            if time.monotonic() - last[0] > self.idle:
                continue                      # the state is gone: the packet is dropped
            last[0] = time.monotonic()
            try:
                b.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self._stop = True
        self.listener.close()
        for s in self._sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self._thread.join(timeout=2)


def _simulated(timeout: float, idle: float) -> list[dict[str, Any]]:
    from ..directory import fixture_path
    from ..sources.slapd import Slapd

    rows: list[dict[str, Any]] = []
    with Slapd(fixture_path("tiny")) as server:
        full = socket.create_server(("127.0.0.1", 0), backlog=0)   # accept queue of one
        filler = socket.create_connection(("127.0.0.1", full.getsockname()[1]))
        relay = _SilentRelay(server.host, server.port, idle)
        closed = _closed_port()
        try:
            cases = [
                {"host": "127.0.0.1", "port": server.port, "source": None, "cause": "allowed",
                 "rule": "none (loopback)", "real": True},
                {"host": "127.0.0.1", "port": full.getsockname()[1], "source": None,
                 "cause": "drop", "rule": "simulated: a listener whose accept queue is full "
                 "(the kernel ignores the SYN, as DROP does)", "real": False},
                {"host": "127.0.0.1", "port": closed, "source": None,
                 "cause": "reject tcp-reset", "rule": "simulated: a closed port (the kernel "
                 "sends the same TCP reset a REJECT tcp-reset sends)", "real": False},
                {"host": "127.0.0.1", "port": relay.port, "source": None,
                 "cause": "idle timeout", "rule": "simulated: a relay that goes silent after "
                 f"{idle:g} s idle", "real": False},
                {"host": "127.0.0.1", "port": closed, "source": None,
                 "cause": "not listening", "rule": "(no rule: nothing listens there)",
                 "real": True},
                {"host": "127.0.0.1", "port": server.ldaps_port, "source": None,
                 "cause": "wrong protocol",
                 "rule": "(no rule: plain LDAP sent to the LDAPS port)", "real": True},
            ]
            rows = _probe_all(cases, timeout, idle + 0.6)
        finally:
            relay.close()
            filler.close()
            full.close()
    rows.append({"client": "-", "cause": "reject icmp",
                 "rule": "needs a network namespace (root): not shown here", "tcp connect": "-",
                 "seconds": float("nan"), "tcp detail": "an ICMP error would come back "
                 "('No route to host')", "ldap": "-", "ldap detail": "-", "real": False})
    return rows


def lab(*, timeout: float = 1.0, idle: float = 1.0, real: bool | None = None,
        seed: int = 389) -> Lab:
    """Probe one private slapd from client sites behind different firewall rules.

    Parameters
    ----------
    timeout
        Seconds a client waits for a TCP connect or an LDAP answer.
    idle
        Seconds after which the stateful firewall forgets an idle connection.
    real
        True: real nftables rules in a private network namespace (fails with
        DirectoryUnavailable when :func:`can_isolate` says no); False: the simulation on
        loopback; None (default): real when possible.
    seed
        Orders the sites of :meth:`Lab.evidence`.

    Returns
    -------
    Lab

    Raises
    ------
    DirectoryUnavailable
        slapd is not installed, or the namespace could not be made.
    """
    import pandas as pd

    possible, why = can_isolate()
    use_real = possible if real is None else real
    if use_real and not possible:
        raise DirectoryUnavailable(f"the real firewall lab cannot run here: {why}")
    rules = ""
    if use_real:
        spec = json.dumps({"timeout": timeout, "idle": idle})
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
             os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run(["unshare", "--net", sys.executable, "-m", __name__, spec],
                              capture_output=True, text=True, env=env, timeout=120)
        if done.returncode != 0:
            raise DirectoryUnavailable("the firewall lab's network namespace failed: "
                                       + (done.stderr.strip().splitlines() or ["?"])[-1])
        rows = json.loads(done.stdout.strip().splitlines()[-1])
        rules = rows[0].pop("rules", "")
        for r in rows:
            r.pop("rules", None)
        how = ("Real: nftables rules in a private network namespace (unshare --net); the "
               "machine's own firewall was not touched.")
    else:
        rows = _simulated(timeout, idle)
        how = (f"Simulated on loopback ({why or 'asked for'}): the reset, the dropped SYN and "
               "the silent relay are real kernel behaviour, but no firewall rule made them.")
    frame = pd.DataFrame(rows)
    order = list(frame.index)
    random.Random(seed).shuffle(order)
    return Lab(frame, use_real, how, rules, idle, timeout, order)


def classify(tcp: str, ldap: str = "-") -> str:
    """What a client's symptoms suggest, in the words of :data:`CAUSES` (a reading guide).

    >>> classify("timeout")
    'drop'
    >>> classify("connected", "failed")
    'wrong protocol'
    """
    if tcp == "refused":
        return "reject tcp-reset or not listening"
    if tcp == "timeout":
        return "drop"
    if tcp == "unreachable":
        return "reject icmp"
    if ldap == "timeout after idle":
        return "idle timeout"
    if ldap == "failed":
        return "wrong protocol"
    return "allowed"


if __name__ == "__main__":  # run inside the namespace by lab()
    print(json.dumps(_inside(json.loads(sys.argv[1]))))
