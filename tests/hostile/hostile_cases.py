"""The misbehaviours of the hostile server, by class.

Each :class:`Case` is one misbehaviour: what the server does instead of answering the request
of the attacked phase (or on every new connection, ``on_connect``), and what ldapnb must do:
``"error"`` (a typed :class:`~ldapnb.errors.LdapnbError`), ``"ok"`` (the correct answer) or
``"either"`` (one of the two; never a wrong answer, never an untyped exception, never a hang).
``expect`` may name a different expectation per target (``{"connect": "ok", "*": "error"}``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hostile_server import (
    BIND_REQUEST,
    BIND_RESPONSE,
    EXTENDED_RESPONSE,
    INTERMEDIATE,
    NOTICE_OF_DISCONNECTION,
    SEARCH_DONE,
    SEARCH_ENTRY,
    SEARCH_REF,
    SEARCH_REQUEST,
    Request,
    Session,
    entry,
    extended,
    integer,
    message,
    nested,
    octets,
    paged_control,
    result,
    result_body,
    seq,
    tlv,
)


@dataclass
class Case:
    name: str
    kind: str  # the class of misbehaviour
    misbehave: Callable[[Session, Request], None] | None = None
    expect: str | dict[str, str] = "error"
    on_connect: Callable[[Session], None] | None = None
    warns: bool = False  # a correct answer comes with a warning (referrals)
    options: dict[str, Any] = field(default_factory=dict)

    def expected(self, target: str) -> str:
        if isinstance(self.expect, str):
            return self.expect
        return self.expect.get(target, self.expect.get("*", "either"))


CASES: list[Case] = []


def case(kind: str, expect: str | dict[str, str] = "error", **kw: Any) -> Callable[..., Any]:
    def register(fn: Callable[[Session, Request], None]) -> Callable[[Session, Request], None]:
        CASES.append(Case(fn.__name__, kind, fn, expect, **kw))
        return fn
    return register


def connect_case(kind: str, expect: str | dict[str, str] = "error") -> Callable[..., Any]:
    def register(fn: Callable[[Session], None]) -> Callable[[Session], None]:
        CASES.append(Case(fn.__name__, kind, None, expect, on_connect=fn))
        return fn
    return register


def _paged_search(req: Request) -> bool:
    return req.op == SEARCH_REQUEST and req.paged


def _later_page(req: Request) -> bool:
    return _paged_search(req) and bool(req.cookie)


def _all_entries(s: Session, req: Request) -> bytes:
    """Every entry a search matches (nothing for a bind): what precedes a final result."""
    if req.op != SEARCH_REQUEST:
        return b""
    if req.kind == "rootdse":
        from hostile_server import ROOT_DSE
        return entry(req.message_id, "", ROOT_DSE)
    return b"".join(entry(req.message_id, dn, a) for dn, a in s.matches(req))


# the search-only misbehaviours leave binds and rootDSE reads alone: a correct answer there
SEARCH_ONLY = {"connect": "ok", "diagnose": "ok", "rootdse": "ok"}


# -- connection: closes, resets, silence --------------------------------------------------------
@connect_case("connection")
def close_at_once(s: Session) -> None:
    s.close()


@connect_case("connection")
def reset_at_once(s: Session) -> None:
    s.reset()


@connect_case("connection")
def silent_never_reads(s: Session) -> None:
    s.hold()


@case("connection")
def close_on_request(s: Session, req: Request) -> None:
    s.close()


@case("connection")
def reset_on_request(s: Session, req: Request) -> None:
    s.reset()


@case("connection")
def silence_on_request(s: Session, req: Request) -> None:
    s.hold()


# -- garbage ----------------------------------------------------------------------------------
@case("garbage")
def garbage_bytes(s: Session, req: Request) -> None:
    s.send(b"\xde\xad\xbe\xef" * 64)
    s.hold()


@case("garbage")
def garbage_then_close(s: Session, req: Request) -> None:
    s.send(bytes(range(256)))
    s.close()


@case("garbage")
def http_answer(s: Session, req: Request) -> None:
    s.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    s.close()


@case("garbage")
def tls_alert(s: Session, req: Request) -> None:
    s.send(b"\x15\x03\x03\x00\x02\x02\x50")
    s.close()


@case("garbage")
def zeros(s: Session, req: Request) -> None:
    s.send(b"\x00" * 4096)
    s.hold()


@case("garbage")
def empty_message(s: Session, req: Request) -> None:
    s.send(b"\x30\x00")
    s.hold()


# -- message ids ------------------------------------------------------------------------------
@case("message id")
def wrong_message_id(s: Session, req: Request) -> None:
    s.send(s.answer(req, message_id=req.message_id + 7))
    s.hold()


@case("message id")
def message_id_zero(s: Session, req: Request) -> None:
    s.send(s.answer(req, message_id=0))
    s.hold()


@case("message id")
def huge_message_id(s: Session, req: Request) -> None:
    s.send(s.answer(req, message_id=2**70 + req.message_id))
    s.hold()


@case("message id")
def negative_message_id(s: Session, req: Request) -> None:
    s.send(s.answer(req, message_id=-req.message_id))
    s.hold()


@case("message id", expect="either")
def stale_answer_first(s: Session, req: Request) -> None:
    """An answer to an older request, then the right one."""
    s.send(result(max(1, req.message_id - 1) + 1000, SEARCH_DONE) + s.answer(req))


# -- wrong tags and response types --------------------------------------------------------------
@case("wrong type")
def wrong_response_type(s: Session, req: Request) -> None:
    """A bind answered with a searchResDone(success), a search with a bindResponse(success):
    neither is an answer to the request (a bind must not count as bound)."""
    tag = SEARCH_DONE if req.op == BIND_REQUEST else BIND_RESPONSE
    s.send(result(req.message_id, tag, 0))
    s.hold()


@case("wrong type")
def extended_response_instead(s: Session, req: Request) -> None:
    s.send(extended(req.message_id, "1.2.3.4", 0))
    s.hold()


@case("wrong type")
def unknown_op_tag(s: Session, req: Request) -> None:
    s.send(message(req.message_id, tlv(0x7E, result_body(0))))
    s.hold()


@case("wrong type")
def wrong_outer_tag(s: Session, req: Request) -> None:
    answer = bytearray(s.answer(req))
    answer[0] = 0x31
    s.send(bytes(answer))
    s.hold()


@case("wrong type")
def universal_op(s: Session, req: Request) -> None:
    s.send(message(req.message_id, octets(b"not an operation")))
    s.hold()


@case("wrong type", expect={"connect": "either", "*": "error"})
def entry_before_the_result(s: Session, req: Request) -> None:
    """A searchResEntry answering a bind; an entry of the wrong shape answering a search."""
    if req.op == BIND_REQUEST:
        s.send(entry(req.message_id, "cn=x", {"cn": [b"x"]}) + s.answer(req))
    else:
        s.send(message(req.message_id, seq(octets("cn=x"), integer(5), tag=SEARCH_ENTRY))
               + result(req.message_id, SEARCH_DONE))
        s.hold()


@case("wrong type")
def bind_in_progress(s: Session, req: Request) -> None:
    """saslBindInProgress (14) to a simple bind; the same code ending a search."""
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(result(req.message_id, tag, 14))
    s.hold()


# -- truncation -----------------------------------------------------------------------------
@case("truncation")
def truncated_then_close(s: Session, req: Request) -> None:
    answer = s.answer(req)
    s.send(answer[: len(answer) // 2])
    s.close()


@case("truncation")
def truncated_then_silence(s: Session, req: Request) -> None:
    answer = s.answer(req)
    s.send(answer[: len(answer) // 2])
    s.hold()


@case("truncation")
def cut_inside_header(s: Session, req: Request) -> None:
    s.send(b"\x30\x84\x00")
    s.close()


# -- lengths ----------------------------------------------------------------------------------
def _entry_with_value_length(mid: int, delta: int) -> bytes:
    """An entry whose ``cn`` value declares ``delta`` bytes more (or fewer) than it has,
    with the outer lengths consistent, followed by a correct searchResDone."""
    value = b"alice"
    bad_value = bytes((0x04, len(value) + delta)) + value
    values = tlv(0x31, bad_value)
    attr = seq(octets("cn"), values)
    op = seq(octets("cn=alice,dc=example,dc=com"), seq(attr), tag=SEARCH_ENTRY)
    return message(mid, op) + result(mid, SEARCH_DONE)


@case("length", expect={"connect": "ok", "*": "error"})
def value_overruns(s: Session, req: Request) -> None:
    if req.op != SEARCH_REQUEST:
        return s.normal(req)
    s.send(_entry_with_value_length(req.message_id, +12))
    s.hold()


@case("length", expect={"connect": "ok", "*": "error"})
def value_underruns(s: Session, req: Request) -> None:
    if req.op != SEARCH_REQUEST:
        return s.normal(req)
    s.send(_entry_with_value_length(req.message_id, -3))
    s.hold()


def _change_first_length(answer: bytes, delta: int) -> bytes:
    """``answer`` with the first message's declared length changed by ``delta``."""
    n = answer[1]
    if n < 0x80:
        return answer[:1] + bytes((n + delta,)) + answer[2:]
    k = n & 0x7F
    value = int.from_bytes(answer[2:2 + k], "big") + delta
    return answer[:2] + value.to_bytes(k, "big") + answer[2 + k:]


@case("length")
def outer_length_short(s: Session, req: Request) -> None:
    s.send(_change_first_length(s.answer(req), -3))
    s.hold()


@case("length")
def outer_length_long(s: Session, req: Request) -> None:
    s.send(_change_first_length(s.answer(req), +9))
    s.hold()


@case("length")
def indefinite_length(s: Session, req: Request) -> None:
    answer = s.answer(req)
    s.send(b"\x30\x80" + answer[2:] + b"\x00\x00")
    s.hold()


@case("length")
def length_of_length_5(s: Session, req: Request) -> None:
    s.send(b"\x30\x85\x00\x00\x00\x00\x10" + b"\x02\x01\x01" + b"\x00" * 13)
    s.hold()


@case("length")
def length_of_length_127(s: Session, req: Request) -> None:
    s.send(b"\x30\xff" + b"\xff" * 127)
    s.hold()


@case("length")
def huge_declared_trickled(s: Session, req: Request) -> None:
    """An LDAPMessage declaring 2 GiB, then its content one byte every 0.3 s."""
    s.send(b"\x30\x84\x7f\xff\xff\xff")
    s.trickle(integer(req.message_id) + b"\x00" * 10_000, 0.3)


@case("length")
def huge_declared_flooded(s: Session, req: Request) -> None:
    """An LDAPMessage declaring 2 GiB, then 4 MiB of it at once."""
    s.send(b"\x30\x84\x7f\xff\xff\xff" + integer(req.message_id))
    chunk = b"\x04" * 65536
    for _ in range(64):
        s.send(chunk)
    s.hold()


# -- deep nesting -----------------------------------------------------------------------------
@case("nesting")
def deep_nesting_in_result(s: Session, req: Request) -> None:
    """3,000 nested SEQUENCEs inside the response operation."""
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(message(req.message_id, tlv(tag, result_body(0) + nested(3000))))
    s.hold()


@case("nesting")
def deep_nesting_as_message(s: Session, req: Request) -> None:
    """3,000 nested SEQUENCEs in place of the operation."""
    s.send(message(req.message_id, nested(3000)))
    s.hold()


@case("nesting", expect="either")
def deep_nesting_in_controls(s: Session, req: Request) -> None:
    """The entries, then a successful result whose controls hold 3,000 nested SEQUENCEs."""
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(_all_entries(s, req)
           + message(req.message_id, tlv(tag, result_body(0)), tlv(0xA0, nested(3000))))
    s.hold()


@case("nesting", expect={"connect": "ok", "*": "error"})
def deep_nesting_in_entry(s: Session, req: Request) -> None:
    if req.op != SEARCH_REQUEST:
        return s.normal(req)
    op = seq(octets("cn=deep,dc=example,dc=com"), nested(3000), tag=SEARCH_ENTRY)
    s.send(message(req.message_id, op) + result(req.message_id, SEARCH_DONE))
    s.hold()


# -- trickling --------------------------------------------------------------------------------
@case("trickle")
def trickle_the_answer(s: Session, req: Request) -> None:
    """The correct answer, one byte every 0.1 s (each read is quick, the whole is not)."""
    s.trickle(s.answer(req), 0.1)


@case("trickle")
def trickle_forever(s: Session, req: Request) -> None:
    """A 1 MB message, one byte every 0.1 s."""
    s.send(b"\x30\x83\x10\x00\x00" + integer(req.message_id))
    s.trickle(b"\x04" * 1_000_000, 0.1)


# -- paged results ----------------------------------------------------------------------------
@case("paging", expect=SEARCH_ONLY | {"*": "error"})
def repeated_cookie_forever(s: Session, req: Request) -> None:
    """Every page has the same entries and the same cookie."""
    if not _paged_search(req):
        return s.normal(req)
    s.send(s.search_answer(req, cookie_for=lambda _nxt: b"again"))


@case("paging", expect=SEARCH_ONLY | {"*": "error"})
def fresh_cookie_forever(s: Session, req: Request) -> None:
    """Empty pages, each with a new cookie, for ever."""
    if not _paged_search(req):
        return s.normal(req)
    s.pages_sent += 1
    s.send(result(req.message_id, SEARCH_DONE,
                  controls=paged_control(b"page-%d" % s.pages_sent)))


@case("paging", expect=SEARCH_ONLY | {"*": "error"})
def size_limit_on_later_page(s: Session, req: Request) -> None:
    if not _later_page(req):
        return s.normal(req)
    s.send(result(req.message_id, SEARCH_DONE, 4))


@case("paging", expect=SEARCH_ONLY | {"*": "error"})
def time_limit_on_later_page(s: Session, req: Request) -> None:
    if not _later_page(req):
        return s.normal(req)
    s.send(result(req.message_id, SEARCH_DONE, 3))


@case("paging", expect=SEARCH_ONLY | {"*": "error"})
def busy_on_later_page(s: Session, req: Request) -> None:
    if not _later_page(req):
        return s.normal(req)
    s.send(result(req.message_id, SEARCH_DONE, 51, diagnostic="too busy"))


@case("paging", expect=SEARCH_ONLY | {"*": "error"})
def close_on_later_page(s: Session, req: Request) -> None:
    if not _later_page(req):
        return s.normal(req)
    s.close()


@case("paging", expect=SEARCH_ONLY | {"*": "error"})
def unknown_cookie_on_later_page(s: Session, req: Request) -> None:
    """The server forgets the cookie it gave (slapd: 'paged results cookie is invalid')."""
    if not _later_page(req):
        return s.normal(req)
    s.send(result(req.message_id, SEARCH_DONE, 2, diagnostic="paged results cookie is invalid"))


@case("paging", expect="ok")
def paging_ignored(s: Session, req: Request) -> None:
    """Everything in one page, with no paged-results control: a correct (complete) answer."""
    if not _paged_search(req):
        return s.normal(req)
    s.send(s.search_answer(Request(req.message_id, req.op, req.raw, req.base, req.scope)))


@case("paging", expect="ok")
def one_cookie_per_search(s: Session, req: Request) -> None:
    """The same cookie on every page, the server keeping its place itself (as Samba does; RFC
    2696's cookie is opaque): new entries each page, so a correct (complete) answer."""
    if not _paged_search(req):
        return s.normal(req)
    offset = 0 if not req.cookie else getattr(s, "offset", 0)
    found = s.matches(req)
    size = req.page_size or len(found)
    s.offset = offset + size
    more = s.offset < len(found)
    s.pages_sent += 1
    s.send(b"".join(entry(req.message_id, dn, a) for dn, a in found[offset:offset + size])
           + result(req.message_id, SEARCH_DONE,
                    controls=paged_control(b"samba-ctx-1" if more else b"")))


@case("paging", expect={"connect": "ok", "diagnose": "ok", "*": "either"})
def malformed_paged_control(s: Session, req: Request) -> None:
    if not _paged_search(req):
        return s.normal(req)
    found = s.matches(req)
    broken = seq(seq(octets("1.2.840.113556.1.4.319"), octets(b"\x30\x05\x02\x01")), tag=0xA0)
    s.send(b"".join(entry(req.message_id, dn, a) for dn, a in found[:2])
           + result(req.message_id, SEARCH_DONE, controls=broken))
    s.hold()


# -- notices and unsolicited messages -----------------------------------------------------------
@case("unsolicited")
def notice_of_disconnection(s: Session, req: Request) -> None:
    s.send(extended(0, NOTICE_OF_DISCONNECTION, 52, "the server is going away"))
    s.close()


@case("unsolicited")
def notice_then_answer(s: Session, req: Request) -> None:
    s.send(extended(0, NOTICE_OF_DISCONNECTION, 52, "going away") + s.answer(req))
    s.hold()


@case("unsolicited", expect=SEARCH_ONLY | {"*": "error"})
def notice_on_later_page(s: Session, req: Request) -> None:
    if not _later_page(req):
        return s.normal(req)
    s.send(extended(0, NOTICE_OF_DISCONNECTION, 51, "shutting down"))
    s.close()


@case("unsolicited", expect="either")
def unknown_unsolicited_notification(s: Session, req: Request) -> None:
    s.send(extended(0, "1.3.6.1.4.1.99999.1", 0) + s.answer(req))
    s.hold()


@case("unsolicited", expect="either")
def intermediate_then_answer(s: Session, req: Request) -> None:
    s.send(message(req.message_id, tlv(INTERMEDIATE, octets("1.2.3", 0x80))) + s.answer(req))


# -- referrals --------------------------------------------------------------------------------
@case("referral")
def referral_result(s: Session, req: Request) -> None:
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(result(req.message_id, tag, 10, referrals=["ldap://other.invalid/dc=example,dc=com"]))


@case("referral", expect=SEARCH_ONLY | {"*": "ok"}, warns=True)
def continuation_references(s: Session, req: Request) -> None:
    """A correct answer plus a searchResRef: reported, never followed (no DNS asked)."""
    if req.op != SEARCH_REQUEST:
        return s.normal(req)
    answer = s.answer(req)
    ref = message(req.message_id, seq(octets("ldap://elsewhere.invalid/dc=x"), tag=SEARCH_REF))
    s.send(ref + answer)


# -- result codes and text --------------------------------------------------------------------
@case("result")
def busy(s: Session, req: Request) -> None:
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(result(req.message_id, tag, 51, diagnostic="busy"))


@case("result")
def undefined_result_code(s: Session, req: Request) -> None:
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(result(req.message_id, tag, 4242))


@case("result")
def non_utf8_diagnostic(s: Session, req: Request) -> None:
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(result(req.message_id, tag, 80, diagnostic=b"\xff\xfe\xc3("))


@case("result", expect={"connect": "error", "*": "error"})
def invalid_credentials(s: Session, req: Request) -> None:
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(result(req.message_id, tag, 49, diagnostic="80090308: LdapErr: DSID-0C09042A, "
                  "comment: AcceptSecurityContext error, data 52e, v4563"))


# -- entries ----------------------------------------------------------------------------------
@case("entry", expect={"connect": "ok", "*": "error"})
def non_utf8_dn(s: Session, req: Request) -> None:
    if req.op != SEARCH_REQUEST:
        return s.normal(req)
    s.send(entry(req.message_id, b"cn=\xff\xfe,dc=example,dc=com", {"cn": [b"x"]})
           + result(req.message_id, SEARCH_DONE))


@case("entry", expect={"connect": "ok", "*": "error"})
def non_utf8_attribute_name(s: Session, req: Request) -> None:
    if req.op != SEARCH_REQUEST:
        return s.normal(req)
    s.send(entry(req.message_id, "cn=alice,dc=example,dc=com", {b"c\xffn": [b"x"]})
           + result(req.message_id, SEARCH_DONE))


@case("entry", expect={"connect": "either", "*": "either"})
def trailing_bytes_in_message(s: Session, req: Request) -> None:
    """Bytes after the operation inside the LDAPMessage that are not controls."""
    tag = BIND_RESPONSE if req.op == BIND_REQUEST else SEARCH_DONE
    s.send(_all_entries(s, req)
           + message(req.message_id, tlv(tag, result_body(0)), b"\x04\x03abc"))
    s.hold()


def counts() -> dict[str, int]:
    out: dict[str, int] = {}
    for c in CASES:
        out[c.kind] = out.get(c.kind, 0) + 1
    return out


__all__ = ["CASES", "Case", "counts", "EXTENDED_RESPONSE"]
