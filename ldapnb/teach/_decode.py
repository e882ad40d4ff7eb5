"""The decoder of the wire lessons: recorded byte streams read as LDAP messages (BER, RFC
4511) field by field, with the byte offset of each field, and TLS records (shown, never
decrypted; the hello messages say which TLS version was negotiated and that the server name
(SNI) crosses in clear).  Public names are re-exported by :mod:`ldapnb.teach.wire`.

The BER reader is written by hand (with the RFC 4511 field names): pyasn1, which ldap3 uses,
decodes a message into values but does not say at which byte offset each field sits, and
showing the bytes is the point.  The tests check it against pyasn1 with ldap3's RFC 4511
specification and against the bytes ldap3 itself encodes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import oids
from ..errors import (
    OperationError,
)
from ..results import RESULTS
from ..sources.base import SCOPE_PROTOCOL_NAMES

if TYPE_CHECKING:
    import pandas as pd

from ._tap import CLIENT_TO_SERVER, SERVER_TO_CLIENT, Record

__all__ = ["ENCRYPTED", "STARTTLS_OID", "Field", "Message", "decode", "decode_stream",
           "hexdump", "messages_frame"]

#: The StartTLS extended operation (RFC 4511 section 4.14).
STARTTLS_OID = oids.STARTTLS

# ==========================================================================================
# BER, by hand
# ==========================================================================================
class _BerError(Exception):
    def __init__(self, message: str, offset: int):
        self.offset = offset
        super().__init__(message)


@dataclass
class _Tlv:
    offset: int          # where the tag starts, in the stream
    cls: int             # 0 universal, 1 application, 2 context, 3 private
    constructed: bool
    number: int
    header: bytes        # tag and length bytes
    content: bytes

    @property
    def tag(self) -> bytes:
        return self.header[: self._tag_len]

    _tag_len: int = 1

    @property
    def end(self) -> int:
        return self.offset + len(self.header) + len(self.content)

    def children(self) -> list[_Tlv]:
        if not self.constructed:
            raise _BerError("a primitive value was found where a constructed one was expected",
                            self.offset)
        out = []
        start = self.offset + len(self.header)
        position = 0
        while position < len(self.content):
            child = _read_tlv(self.content, position, start)
            out.append(child)
            position = child.end - start
        return out


def _read_tlv(data: bytes, position: int, base: int = 0) -> _Tlv:
    """The BER element starting at ``data[position]``; offsets reported as ``base + ...``."""
    where = base + position
    if position >= len(data):
        raise _BerError("the data ends where a tag was expected", where)
    first = data[position]
    cls, constructed, number = first >> 6, bool(first & 0x20), first & 0x1F
    i = position + 1
    if number == 0x1F:  # high tag number form
        number = 0
        while True:
            if i >= len(data):
                raise _BerError("the data ends inside a multi-byte tag", base + i)
            b = data[i]
            i += 1
            number = (number << 7) | (b & 0x7F)
            if not b & 0x80:
                break
            if i - position > 6:
                raise _BerError("a tag number longer than 5 bytes", where)
    tag_len = i - position
    if i >= len(data):
        raise _BerError("the data ends where a length was expected", base + i)
    length = data[i]
    i += 1
    if length == 0x80:
        raise _BerError("indefinite length (0x80), which LDAP forbids (RFC 4511 section 5.1)",
                        base + i - 1)
    if length & 0x80:
        count = length & 0x7F
        if count > 4:
            raise _BerError(f"a length of {count} bytes: not a plausible LDAP message",
                            base + i - 1)
        if i + count > len(data):
            raise _BerError("the data ends inside a length", base + i)
        length = int.from_bytes(data[i:i + count], "big")
        i += count
    if i + length > len(data):
        raise _BerError(f"the element says it holds {length} bytes but only "
                        f"{len(data) - i} follow (truncated?)", where)
    tlv = _Tlv(where, cls, constructed, number, data[position:i], data[i:i + length])
    tlv._tag_len = tag_len
    return tlv


_CLASS_NAMES = ("UNIVERSAL", "APPLICATION", "", "PRIVATE")
_UNIVERSAL = {1: "BOOLEAN", 2: "INTEGER", 4: "OCTET STRING", 5: "NULL", 10: "ENUMERATED",
              16: "SEQUENCE", 17: "SET"}


def _tag_name(t: _Tlv) -> str:
    if t.cls == 0:
        base = _UNIVERSAL.get(t.number, f"UNIVERSAL {t.number}")
    else:
        base = f"[{(_CLASS_NAMES[t.cls] + ' ').lstrip()}{t.number}]"
    return f"{base}{' constructed' if t.constructed else ''}"


def _int(t: _Tlv) -> int:
    if t.constructed or not t.content:
        raise _BerError("an INTEGER must be primitive and at least one byte long", t.offset)
    return int.from_bytes(t.content, "big", signed=True)


def _text(value: bytes) -> str:
    try:
        return repr(value.decode("utf-8"))
    except UnicodeDecodeError:
        return f"0x{value.hex()} ({len(value)} bytes, not UTF-8)"


def _plain(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + value.hex()


# ==========================================================================================
# Messages
# ==========================================================================================
@dataclass(frozen=True)
class Field:
    """One BER element of a message, for a field-by-field table.

    ``path`` names the field (``protocolOp.bindRequest.authentication.simple``), ``tag`` is the
    tag byte(s) in hex, ``tag_name`` says what the tag means (``[APPLICATION 0] constructed``),
    ``length`` is the content length in bytes, ``value`` how ldapnb shows the value (empty for a
    constructed element, whose parts follow it), ``raw`` the element's bytes in hex (for a
    constructed element, only its tag and length bytes), ``offset`` where it starts in the
    message and ``depth`` how deeply it is nested.
    """

    path: str
    tag: str
    tag_name: str
    length: int
    value: str
    raw: str
    offset: int
    depth: int


_OPS: dict[int, str] = {
    0: "bindRequest", 1: "bindResponse", 2: "unbindRequest", 3: "searchRequest",
    4: "searchResEntry", 5: "searchResDone", 6: "modifyRequest", 7: "modifyResponse",
    8: "addRequest", 9: "addResponse", 10: "delRequest", 11: "delResponse",
    12: "modDNRequest", 13: "modDNResponse", 14: "compareRequest", 15: "compareResponse",
    16: "abandonRequest", 19: "searchResRef", 23: "extendedReq", 24: "extendedResp",
    25: "intermediateResponse",
}

#: Names of object identifiers a lesson is likely to meet on the wire.
OID_NAMES: dict[str, str] = dict(oids.NAMES)

_RESULT_CODES: dict[int, str] = {code: r.name for code, r in RESULTS.items()}
_SCOPES = SCOPE_PROTOCOL_NAMES
_DEREF = {0: "neverDerefAliases", 1: "derefInSearching", 2: "derefFindingBaseObj",
          3: "derefAlways"}
_MOD_OPS = {0: "add", 1: "delete", 2: "replace", 3: "increment"}


def _oid(value: bytes) -> str:
    text = _plain(value)
    name = OID_NAMES.get(text)
    return f"{text} ({name})" if name else text


@dataclass
class Message:
    """One LDAP message, or one TLS record, as it crossed the wire.

    ``protocol`` is ``"LDAP"`` or ``"TLS"``.  For LDAP, ``message_id`` and ``operation``
    (``bindRequest``, ``searchResEntry``, ``extendedReq`` ...) come from the message and
    ``fields`` break it down element by element.  For TLS, ``operation`` names the record's
    content type; ``encrypted`` is True for every record that carries protected data: its
    bytes are shown, never interpreted.
    """

    direction: str
    connection: int
    time: float
    protocol: str
    operation: str
    summary: str
    raw: bytes
    message_id: int | None = None
    fields: list[Field] = field(default_factory=list)
    encrypted: bool = False
    offset: int = 0           #: where it starts in its direction's byte stream
    seq: int = 0              #: the tap record holding its first byte
    result: str | None = None  #: for responses: the result code's name

    def to_frame(self) -> pd.DataFrame:
        """The fields as a DataFrame: path, tag, tag_name, length, value, raw."""
        import pandas as pd

        rows = [{"path": f.path, "tag": f.tag, "tag_name": f.tag_name, "length": f.length,
                 "value": f.value, "raw": f.raw} for f in self.fields]
        return pd.DataFrame(rows, columns=["path", "tag", "tag_name", "length", "value", "raw"])

    def hexdump(self) -> str:
        """The message's bytes as a classic hex dump."""
        return hexdump(self.raw)

    def __repr__(self) -> str:
        mid = f" #{self.message_id}" if self.message_id is not None else ""
        return (f"<Message {self.direction} {self.protocol}{mid} {self.operation}: "
                f"{len(self.raw)} bytes>")

    def _repr_html_(self) -> str:
        head = html.escape(f"{self.direction} {self.protocol} {self.operation} - {self.summary}")
        return f"<p><b>{head}</b></p>" + self.to_frame().to_html(index=False)


class _Walker:
    """Turns one LDAPMessage's BER elements into named :class:`Field` rows."""

    def __init__(self, message_offset: int):
        self.base = message_offset
        self.fields: list[Field] = []
        self.facts: dict[str, Any] = {}

    def add(self, t: _Tlv, path: str, depth: int, value: str = "") -> None:
        raw = t.header if t.constructed else t.header + t.content
        self.fields.append(Field(path, t.tag.hex(" "), _tag_name(t), len(t.content), value,
                                 raw.hex(" "), t.offset - self.base, depth))

    def expect(self, t: _Tlv, cls: int, number: int, constructed: bool | None,
               what: str) -> None:
        if t.cls != cls or t.number != number or (
                constructed is not None and t.constructed != constructed):
            raise _BerError(f"expected {what} but found tag 0x{t.tag.hex()} ({_tag_name(t)})",
                            t.offset)

    def prim(self, t: _Tlv, path: str, depth: int, kind: str) -> Any:
        """A primitive universal value: int, enum, bool, str."""
        number = {"int": 2, "enum": 10, "bool": 1, "str": 4, "null": 5}[kind]
        self.expect(t, 0, number, False, _UNIVERSAL[number])
        if kind in ("int", "enum"):
            value: Any = _int(t)
            shown = str(value)
        elif kind == "bool":
            value = t.content != b"\x00"
            shown = "TRUE" if value else "FALSE"
        elif kind == "null":
            value, shown = None, "NULL"
        else:
            value, shown = t.content, _text(t.content)
        self.add(t, path, depth, shown)
        return value

    # -- the message ---------------------------------------------------------------------
    def message(self, top: _Tlv) -> tuple[int, str, str]:
        self.expect(top, 0, 16, True, "an LDAPMessage (SEQUENCE, tag 0x30)")
        self.add(top, "LDAPMessage", 0)
        parts = top.children()
        if len(parts) < 2:
            raise _BerError("an LDAPMessage needs a messageID and a protocolOp", top.offset)
        mid = self.prim(parts[0], "messageID", 1, "int")
        op = parts[1]
        if op.cls != 1 or op.number not in _OPS:
            raise _BerError(f"unknown protocolOp tag 0x{op.tag.hex()} ({_tag_name(op)})",
                            op.offset)
        name = _OPS[op.number]
        path = f"protocolOp.{name}"
        summary = getattr(self, f"op_{name}")(op, path)
        for extra in parts[2:]:
            self.controls(extra)
        return mid, name, summary

    def ldap_result(self, op: _Tlv, path: str, name: str) -> tuple[list[_Tlv], str]:
        self.expect(op, 1, op.number, True, name)
        self.add(op, path, 1)
        parts = op.children()
        if len(parts) < 3:
            raise _BerError(f"{name} needs resultCode, matchedDN and diagnosticMessage",
                            op.offset)
        code = _int(parts[0])
        self.expect(parts[0], 0, 10, False, "resultCode (ENUMERATED)")
        result = _RESULT_CODES.get(code, f"code {code}")
        self.add(parts[0], f"{path}.resultCode", 2, f"{code} ({result})")
        matched = self.prim(parts[1], f"{path}.matchedDN", 2, "str")
        message = self.prim(parts[2], f"{path}.diagnosticMessage", 2, "str")
        self.facts["result"] = result
        rest = parts[3:]
        if rest and rest[0].cls == 2 and rest[0].number == 3:
            self.add(rest[0], f"{path}.referral", 2)
            for i, url in enumerate(rest[0].children()):
                self.prim(url, f"{path}.referral[{i}]", 3, "str")
            rest = rest[1:]
        text = result
        if matched:
            text += f", matched {_plain(matched)!r}"
        if message:
            text += f": {_plain(message)}"
        return rest, text

    # -- operations ----------------------------------------------------------------------
    def op_bindRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 0, True, "BindRequest")
        self.add(op, path, 1)
        version, name, auth = _need(op, 3, "BindRequest (version, name, authentication)")
        self.prim(version, f"{path}.version", 2, "int")
        dn = _plain(self.prim(name, f"{path}.name", 2, "str"))
        if auth.cls == 2 and auth.number == 0 and not auth.constructed:
            password = auth.content
            shown = (f"{_text(password)} (the password, in clear)" if password
                     else "'' (empty: an unauthenticated bind)")
            self.add(auth, f"{path}.authentication.simple", 2, shown)
            self.facts["password"] = password
            if not dn:
                return "anonymous simple bind"
            return f"simple bind as {dn!r}, password {_plain(password)!r} in clear"
        if auth.cls == 2 and auth.number == 3 and auth.constructed:
            self.add(auth, f"{path}.authentication.sasl", 2)
            parts = auth.children()
            if not parts:
                raise _BerError("SaslCredentials needs a mechanism", auth.offset)
            mech = _plain(self.prim(parts[0], f"{path}.authentication.sasl.mechanism", 3,
                                    "str"))
            if len(parts) > 1:
                self.prim(parts[1], f"{path}.authentication.sasl.credentials", 3, "str")
            return f"SASL bind ({mech})" + (f" as {dn!r}" if dn else "")
        raise _BerError(f"unknown authentication choice 0x{auth.tag.hex()}", auth.offset)

    def op_bindResponse(self, op: _Tlv, path: str) -> str:
        rest, text = self.ldap_result(op, path, "BindResponse")
        for t in rest:
            if t.cls == 2 and t.number == 7:
                self.add(t, f"{path}.serverSaslCreds", 2, _text(t.content))
        return text

    def op_unbindRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 2, False, "UnbindRequest (NULL)")
        self.add(op, path, 1, "NULL")
        return "unbind: the client is leaving"

    def op_searchRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 3, True, "SearchRequest")
        self.add(op, path, 1)
        parts = _need(op, 8, "SearchRequest (8 parts)")
        base = _plain(self.prim(parts[0], f"{path}.baseObject", 2, "str"))
        scope = _int(parts[1])
        self.expect(parts[1], 0, 10, False, "scope (ENUMERATED)")
        self.add(parts[1], f"{path}.scope", 2, f"{scope} ({_SCOPES.get(scope, '?')})")
        deref = _int(parts[2])
        self.expect(parts[2], 0, 10, False, "derefAliases (ENUMERATED)")
        self.add(parts[2], f"{path}.derefAliases", 2, f"{deref} ({_DEREF.get(deref, '?')})")
        self.prim(parts[3], f"{path}.sizeLimit", 2, "int")
        self.prim(parts[4], f"{path}.timeLimit", 2, "int")
        self.prim(parts[5], f"{path}.typesOnly", 2, "bool")
        text = self.filter(parts[6], f"{path}.filter", 2)
        self.facts["filter"] = text
        self.expect(parts[7], 0, 16, True, "attributes (SEQUENCE OF)")
        self.add(parts[7], f"{path}.attributes", 2)
        names = [_plain(self.prim(a, f"{path}.attributes[{i}]", 3, "str"))
                 for i, a in enumerate(parts[7].children())]
        return (f"search {_SCOPES.get(scope, scope)} under {base!r} for {text}"
                + (f", attributes {', '.join(names)}" if names else ", all user attributes"))

    def op_searchResEntry(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 4, True, "SearchResultEntry")
        self.add(op, path, 1)
        name, attrs = _need(op, 2, "SearchResultEntry (objectName, attributes)")
        dn = _plain(self.prim(name, f"{path}.objectName", 2, "str"))
        types = self.attribute_list(attrs, f"{path}.attributes", 2)
        return f"entry {dn!r} ({len(types)} attributes)"

    def op_searchResDone(self, op: _Tlv, path: str) -> str:
        return "search done: " + self.ldap_result(op, path, "SearchResultDone")[1]

    def op_searchResRef(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 19, True, "SearchResultReference")
        self.add(op, path, 1)
        urls = [_plain(self.prim(u, f"{path}[{i}]", 2, "str"))
                for i, u in enumerate(op.children())]
        return "referral to " + ", ".join(urls)

    def op_modifyRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 6, True, "ModifyRequest")
        self.add(op, path, 1)
        obj, changes = _need(op, 2, "ModifyRequest (object, changes)")
        dn = _plain(self.prim(obj, f"{path}.object", 2, "str"))
        self.add(changes, f"{path}.changes", 2)
        done = []
        for i, change in enumerate(changes.children()):
            p = f"{path}.changes[{i}]"
            self.add(change, p, 3)
            kind, mod = _need(change, 2, "a change (operation, modification)")
            code = _int(kind)
            self.add(kind, f"{p}.operation", 4, f"{code} ({_MOD_OPS.get(code, '?')})")
            changed = self.partial_attribute(mod, f"{p}.modification", 4)
            done.append(f"{_MOD_OPS.get(code, '?')} {changed}")
        return f"modify {dn!r}: " + "; ".join(done)

    def op_addRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 8, True, "AddRequest")
        self.add(op, path, 1)
        entry, attrs = _need(op, 2, "AddRequest (entry, attributes)")
        dn = _plain(self.prim(entry, f"{path}.entry", 2, "str"))
        types = self.attribute_list(attrs, f"{path}.attributes", 2)
        return f"add {dn!r} ({len(types)} attributes)"

    def op_delRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 10, False, "DelRequest (an LDAPDN)")
        self.add(op, path, 1, _text(op.content))
        return f"delete {_plain(op.content)!r}"

    def op_modDNRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 12, True, "ModifyDNRequest")
        self.add(op, path, 1)
        parts = _need(op, 3, "ModifyDNRequest (entry, newrdn, deleteoldrdn)", at_least=True)
        dn = _plain(self.prim(parts[0], f"{path}.entry", 2, "str"))
        rdn = _plain(self.prim(parts[1], f"{path}.newrdn", 2, "str"))
        self.prim(parts[2], f"{path}.deleteoldrdn", 2, "bool")
        for t in parts[3:]:
            self.add(t, f"{path}.newSuperior", 2, _text(t.content))
        return f"rename {dn!r} to {rdn!r}"

    def op_compareRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 14, True, "CompareRequest")
        self.add(op, path, 1)
        entry, ava = _need(op, 2, "CompareRequest (entry, ava)")
        dn = _plain(self.prim(entry, f"{path}.entry", 2, "str"))
        self.add(ava, f"{path}.ava", 2)
        desc, value = _need(ava, 2, "an AttributeValueAssertion")
        attr = _plain(self.prim(desc, f"{path}.ava.attributeDesc", 3, "str"))
        self.prim(value, f"{path}.ava.assertionValue", 3, "str")
        return f"compare {attr} of {dn!r}"

    def op_abandonRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 16, False, "AbandonRequest (a message ID)")
        target = _int(op)
        self.add(op, path, 1, str(target))
        return f"abandon message {target}"

    def op_extendedReq(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 23, True, "ExtendedRequest")
        self.add(op, path, 1)
        parts = op.children()
        if not parts:
            raise _BerError("ExtendedRequest needs a requestName", op.offset)
        name = ""
        for t in parts:
            if t.cls == 2 and t.number == 0:
                name = _plain(t.content)
                self.add(t, f"{path}.requestName", 2, _oid(t.content))
            elif t.cls == 2 and t.number == 1:
                self.add(t, f"{path}.requestValue", 2, _text(t.content))
            else:
                raise _BerError(f"unexpected tag 0x{t.tag.hex()} in ExtendedRequest", t.offset)
        self.facts["request_name"] = name
        label = OID_NAMES.get(name)
        return f"extended operation {name}" + (f" ({label})" if label else "")

    def op_extendedResp(self, op: _Tlv, path: str) -> str:
        rest, text = self.ldap_result(op, path, "ExtendedResponse")
        for t in rest:
            if t.cls == 2 and t.number == 10:
                self.add(t, f"{path}.responseName", 2, _oid(t.content))
            elif t.cls == 2 and t.number == 11:
                self.add(t, f"{path}.responseValue", 2, _text(t.content))
        return "extended response: " + text

    def op_intermediateResponse(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 25, True, "IntermediateResponse")
        self.add(op, path, 1)
        name = ""
        for t in op.children():
            if t.cls == 2 and t.number == 0:
                name = _plain(t.content)
                self.add(t, f"{path}.responseName", 2, _oid(t.content))
            else:
                self.add(t, f"{path}.responseValue", 2, f"{len(t.content)} bytes")
        return "intermediate response" + (f" {_oid(name.encode())}" if name else "")

    # -- pieces --------------------------------------------------------------------------
    def attribute_list(self, t: _Tlv, path: str, depth: int) -> list[str]:
        self.expect(t, 0, 16, True, "an attribute list (SEQUENCE OF)")
        self.add(t, path, depth)
        return [self.partial_attribute(a, f"{path}[{i}]", depth + 1)
                for i, a in enumerate(t.children())]

    def partial_attribute(self, t: _Tlv, path: str, depth: int) -> str:
        self.expect(t, 0, 16, True, "an attribute (SEQUENCE of type and values)")
        self.add(t, path, depth)
        kind, vals = _need(t, 2, "an attribute (type, vals)")
        name = _plain(self.prim(kind, f"{path}.type", depth + 1, "str"))
        self.expect(vals, 0, 17, True, "vals (SET OF)")
        self.add(vals, f"{path}.vals", depth + 1)
        secret = name.lower() in ("userpassword", "unicodepwd")
        for i, v in enumerate(vals.children()):
            self.expect(v, 0, 4, False, "a value (OCTET STRING)")
            shown = _text(v.content)
            if secret:
                shown += " (a password value: read it in raw)"
            self.add(v, f"{path}.vals[{i}]", depth + 2, shown)
        return name

    def controls(self, t: _Tlv) -> None:
        if not (t.cls == 2 and t.number == 0 and t.constructed):
            raise _BerError(f"unexpected element 0x{t.tag.hex()} after protocolOp "
                            "(only [0] controls may follow)", t.offset)
        self.add(t, "controls", 1)
        for i, c in enumerate(t.children()):
            self.add(c, f"controls[{i}]", 2)
            parts = c.children()
            if not parts:
                raise _BerError("a control needs a controlType", c.offset)
            self.expect(parts[0], 0, 4, False, "controlType")
            self.add(parts[0], f"controls[{i}].controlType", 3, _oid(parts[0].content))
            for p in parts[1:]:
                if p.cls == 0 and p.number == 1:
                    self.prim(p, f"controls[{i}].criticality", 3, "bool")
                else:
                    self.add(p, f"controls[{i}].controlValue", 3, f"{len(p.content)} bytes")

    def filter(self, t: _Tlv, path: str, depth: int) -> str:
        """Add the filter's fields and return its RFC 4515 text."""
        from ..filters import escape

        if t.cls != 2:
            raise _BerError(f"expected a Filter (a context tag) but found 0x{t.tag.hex()}",
                            t.offset)
        n = t.number
        if n in (0, 1, 2):
            kind = ("and", "or", "not")[n]
            self.expect(t, 2, n, True, kind)
            self.add(t, f"{path}.{kind}", depth)
            subs = [self.filter(c, f"{path}.{kind}[{i}]", depth + 1)
                    for i, c in enumerate(t.children())]
            if n == 2 and len(subs) != 1:
                raise _BerError("a not filter holds exactly one filter", t.offset)
            return "(" + "&|!"[n] + "".join(subs) + ")"
        if n in (3, 5, 6, 8):
            kind, op = {3: ("equalityMatch", "="), 5: ("greaterOrEqual", ">="),
                        6: ("lessOrEqual", "<="), 8: ("approxMatch", "~=")}[n]
            self.expect(t, 2, n, True, kind)
            self.add(t, f"{path}.{kind}", depth)
            desc, asserted = _need(t, 2, f"{kind} (attributeDesc, assertionValue)")
            name = _plain(self.prim(desc, f"{path}.{kind}.attributeDesc", depth + 1, "str"))
            val = self.prim(asserted, f"{path}.{kind}.assertionValue", depth + 1, "str")
            return f"({name}{op}{escape(val)})"
        if n == 4:
            self.expect(t, 2, 4, True, "substrings")
            self.add(t, f"{path}.substrings", depth)
            desc, pieces = _need(t, 2, "substrings (type, substrings)")
            sub_attr = _plain(self.prim(desc, f"{path}.substrings.type", depth + 1, "str"))
            self.add(pieces, f"{path}.substrings.substrings", depth + 1)
            initial, final = "", ""
            middle: list[str] = []
            for i, s in enumerate(pieces.children()):
                which = {0: "initial", 1: "any", 2: "final"}.get(s.number)
                if s.cls != 2 or which is None or s.constructed:
                    raise _BerError(f"unexpected substring tag 0x{s.tag.hex()}", s.offset)
                self.add(s, f"{path}.substrings.substrings[{i}].{which}", depth + 2,
                         _text(s.content))
                if which == "initial":
                    initial = escape(s.content)
                elif which == "final":
                    final = escape(s.content)
                else:
                    middle.append(escape(s.content))
            return f"({sub_attr}={initial}*{''.join(m + '*' for m in middle)}{final})"
        if n == 7:
            self.expect(t, 2, 7, False, "present")
            self.add(t, f"{path}.present", depth, _text(t.content))
            return f"({_plain(t.content)}=*)"
        if n == 9:
            self.expect(t, 2, 9, True, "extensibleMatch")
            self.add(t, f"{path}.extensibleMatch", depth)
            rule = ext_attr = ""
            match_value = b""
            dn_attrs = False
            for c in t.children():
                label = {1: "matchingRule", 2: "type", 3: "matchValue",
                         4: "dnAttributes"}.get(c.number)
                if c.cls != 2 or label is None:
                    raise _BerError(f"unexpected tag 0x{c.tag.hex()} in extensibleMatch",
                                    c.offset)
                if label == "dnAttributes":
                    dn_attrs = c.content != b"\x00"
                    self.add(c, f"{path}.extensibleMatch.{label}", depth + 1,
                             "TRUE" if dn_attrs else "FALSE")
                    continue
                shown = _oid(c.content) if label == "matchingRule" else _text(c.content)
                self.add(c, f"{path}.extensibleMatch.{label}", depth + 1, shown)
                if label == "matchingRule":
                    rule = _plain(c.content)
                elif label == "type":
                    ext_attr = _plain(c.content)
                else:
                    match_value = c.content
            return (f"({ext_attr}{':dn' if dn_attrs else ''}{':' + rule if rule else ''}:="
                    f"{escape(match_value)})")
        raise _BerError(f"unknown filter tag 0x{t.tag.hex()}", t.offset)


def _need(t: _Tlv, count: int, what: str, at_least: bool = False) -> list[_Tlv]:
    parts = t.children()
    if len(parts) < count or (not at_least and len(parts) != count):
        raise _BerError(f"{what}: expected {count} parts, found {len(parts)}", t.offset)
    return parts


# ==========================================================================================
# TLS records (shown, never decrypted)
# ==========================================================================================
_TLS_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data",
              24: "heartbeat"}
_TLS_VERSIONS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2",
                 0x0304: "TLS 1.3"}
_HANDSHAKE_TYPES = {1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket",
                    8: "EncryptedExtensions", 11: "Certificate", 12: "ServerKeyExchange",
                    13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
                    16: "ClientKeyExchange", 20: "Finished"}
_ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
           40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
           44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
           47: "illegal_parameter", 48: "unknown_ca", 50: "decode_error",
           51: "decrypt_error", 70: "protocol_version", 80: "internal_error",
           112: "unrecognized_name", 116: "certificate_required"}
ENCRYPTED = "encrypted - unreadable"


def _hello(fragment: bytes) -> dict[str, Any]:
    """What a ClientHello or ServerHello says in clear (RFC 8446 4.1.2, 4.1.3): the versions
    offered or chosen (``supported_versions``, else the legacy version field) and the server
    name the client asked for (SNI, RFC 6066).  Empty when it is not a whole hello.

    Examples
    --------
    >>> body = (b"\\x03\\x03" + bytes(32) + b"\\x00" + b"\\x13\\x01" + b"\\x00"
    ...         + b"\\x00\\x06" + b"\\x00\\x2b\\x00\\x02\\x03\\x04")
    >>> _hello(b"\\x02" + len(body).to_bytes(3, "big") + body)
    {'kind': 'ServerHello', 'versions': ['TLS 1.3']}
    """
    if len(fragment) < 4 or fragment[0] not in (1, 2):
        return {}
    client = fragment[0] == 1
    body = fragment[4:4 + int.from_bytes(fragment[1:4], "big")]
    try:
        p = 2 + 32
        p += 1 + body[p]                                      # session id
        if client:
            p += 2 + int.from_bytes(body[p:p + 2], "big")     # cipher suites
            p += 1 + body[p]                                  # compression methods
        else:
            p += 2 + 1                                        # cipher suite, compression
        info: dict[str, Any] = {"kind": "ClientHello" if client else "ServerHello",
                                "versions": [_TLS_VERSIONS.get(int.from_bytes(body[:2], "big"),
                                                               body[:2].hex())]}
        end = p + 2 + int.from_bytes(body[p:p + 2], "big") if p + 2 <= len(body) else p
        p += 2
        while p + 4 <= min(end, len(body)):
            kind = int.from_bytes(body[p:p + 2], "big")
            size = int.from_bytes(body[p + 2:p + 4], "big")
            data = body[p + 4:p + 4 + size]
            if kind == 43:  # supported_versions
                raw = data[1:] if client else data
                info["versions"] = [_TLS_VERSIONS.get(int.from_bytes(raw[i:i + 2], "big"),
                                                      raw[i:i + 2].hex())
                                    for i in range(0, len(raw) - 1, 2)
                                    if raw[i] != 0x0A or raw[i + 1] != 0x0A]  # GREASE
            elif kind == 0 and client and len(data) >= 5:  # server_name
                info["sni"] = data[5:5 + int.from_bytes(data[3:5], "big")].decode(
                    "ascii", "replace")
            p += 4 + size
    except IndexError:
        return {}
    return info


def _looks_like_tls(data: bytes) -> bool:
    return len(data) >= 3 and data[0] in (20, 21, 22, 23) and data[1] == 3 and data[2] <= 4


def _tls_records(data: bytes, start: int, direction: str, where: _Where) -> list[Message]:
    out: list[Message] = []
    position = start
    protected = False  # becomes True after this side's change_cipher_spec
    while position < len(data):
        if len(data) - position < 5:
            raise _BerError("the data ends inside a TLS record header (truncated?)", position)
        kind, version, length = (data[position], int.from_bytes(data[position + 1:position + 3],
                                 "big"), int.from_bytes(data[position + 3:position + 5], "big"))
        if kind not in _TLS_TYPES or data[position + 1] != 3:
            raise _BerError(f"not a TLS record: content type {kind}, version "
                            f"0x{version:04x}", position)
        end = position + 5 + length
        if end > len(data):
            raise _BerError(f"a TLS record says it holds {length} bytes but only "
                            f"{len(data) - position - 5} follow (truncated?)", position)
        raw = data[position:end]
        fragment = raw[5:]
        type_name = _TLS_TYPES[kind]
        encrypted = kind == 23 or protected
        if kind == 20:
            note = "change_cipher_spec: from here on this side's records are encrypted"
            shown = "switch to encryption"
        elif encrypted:
            note = f"{type_name}, {length} bytes, {ENCRYPTED}"
            shown = ENCRYPTED
        elif kind == 22 and fragment:
            hs = _HANDSHAKE_TYPES.get(fragment[0], f"handshake type {fragment[0]}")
            note = f"handshake {hs} (in clear: TLS set-up, no LDAP data)"
            shown = f"{hs} (TLS set-up, readable, holds no LDAP data)"
            hello = _hello(fragment)
            if hello.get("kind") == "ClientHello":
                offered = ", ".join(hello["versions"])
                sni = hello.get("sni")
                note += f"; offers {offered}"
                note += (f"; the server name it asks for (SNI) is visible in clear: {sni!r}"
                         if sni else "; no server name (SNI) sent (connecting by IP address)")
                shown = note
            elif hello.get("kind") == "ServerHello":
                note += f"; negotiated version: {hello['versions'][0]}"
                shown = note
        elif kind == 21 and len(fragment) == 2:
            alert = _ALERTS.get(fragment[1], str(fragment[1]))
            level = "fatal" if fragment[0] == 2 else "warning"
            note = f"alert ({level}): {alert}"
            shown = note
        else:
            note, shown = type_name, f"{length} bytes"
        fields = [
            Field("TLSPlaintext.type", f"{kind:02x}", "TLS content type", 1, type_name,
                  f"{kind:02x}", 0, 1),
            Field("TLSPlaintext.legacy_record_version", raw[1:3].hex(" "),
                  "record-layer version", 2,
                  f"{_TLS_VERSIONS.get(version, f'0x{version:04x}')} (a fixed legacy value, "
                  "not the version in use: that is negotiated in the hello messages)",
                  raw[1:3].hex(" "), 1, 1),
            Field("TLSPlaintext.length", raw[3:5].hex(" "), "TLS length", 2, str(length),
                  raw[3:5].hex(" "), 3, 1),
            Field("TLSPlaintext.fragment", "", "TLS payload", length, shown,
                  fragment[:32].hex(" ") + (" ..." if length > 32 else ""), 5, 1),
        ]
        connection, time_, seq = where(position)
        out.append(Message(direction, connection, time_, "TLS",
                           f"TLS {type_name}", note, raw, None, fields, encrypted,
                           position, seq))
        if kind == 20:
            protected = True
        position = end
    return out


# ==========================================================================================
# Streams
# ==========================================================================================
class _Where:
    """Maps an offset in a direction's stream to (connection, time, record seq)."""

    def __init__(self, records: Sequence[Record]):
        self.starts: list[int] = []
        self.records = list(records)
        total = 0
        for r in self.records:
            self.starts.append(total)
            total += len(r.data)

    def __call__(self, offset: int) -> tuple[int, float, int]:
        import bisect

        if not self.records:
            return 0, 0.0, 0
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        r = self.records[i]
        return r.connection, r.time, r.seq


def _decode_error(exc: _BerError, direction: str, data: bytes) -> OperationError:
    around = data[max(0, exc.offset - 8): exc.offset + 8].hex(" ")
    return OperationError(
        f"cannot decode the {direction} bytes at offset {exc.offset} (of {len(data)}): {exc}; "
        f"bytes around it: {around or '(none)'}.  Is this LDAP (BER) at all, and is the "
        "capture complete?", result="decodingError", code=84)


def _ldap_messages(data: bytes, start: int, direction: str, where: _Where,
                   stop_after_starttls: bool, stop_at_id: int | None
                   ) -> tuple[list[Message], int, int | None]:
    """LDAP messages from ``data[start:]``.

    Stops (returning the offset reached) after a StartTLS request when
    ``stop_after_starttls``, or after a successful response to message ``stop_at_id``.
    Returns (messages, offset reached, message id of the StartTLS request met).
    """
    out: list[Message] = []
    position = start
    while position < len(data):
        if _looks_like_tls(data[position:position + 3]):
            break  # TLS where LDAP was expected: the caller shows the rest as TLS records
        top = _read_tlv(data, position)
        walker = _Walker(position)
        mid, op, summary = walker.message(top)
        connection, time_, seq = where(position)
        out.append(Message(direction, connection, time_, "LDAP", op, summary,
                           data[position:top.end], mid, walker.fields, False, position, seq,
                           walker.facts.get("result")))
        position = top.end
        if stop_after_starttls and op == "extendedReq" \
                and walker.facts.get("request_name") == STARTTLS_OID:
            return out, position, mid
        if stop_at_id is not None and mid == stop_at_id and op == "extendedResp" \
                and walker.facts.get("result") == "success":
            return out, position, mid
    return out, position, None


def decode_stream(data: bytes, *, direction: str = CLIENT_TO_SERVER,
                  tls_from: int | None = None) -> list[Message]:
    """Decode one direction's bytes: LDAP messages, then TLS records from ``tls_from`` on.

    Parameters
    ----------
    data
        The bytes one side sent, in order.
    direction
        :data:`CLIENT_TO_SERVER` or :data:`SERVER_TO_CLIENT` (only used as a label).
    tls_from
        The offset where TLS begins (0 for LDAPS); None: LDAP, switching to TLS records if a
        TLS record header appears where a message should start.

    Returns
    -------
    list of Message

    Raises
    ------
    OperationError
        ``result="decodingError"``: the bytes are not LDAP (or are cut short); the message
        says at which offset and shows the bytes around it.

    Examples
    --------
    >>> decode_stream(bytes.fromhex("30 05 02 01 02 42 00"))[0].summary
    'unbind: the client is leaving'
    >>> decode_stream(b"\\x30\\x05\\x02\\x01")
    Traceback (most recent call last):
    ...
    ldapnb.errors.OperationError: cannot decode the client->server bytes at offset 0 ...
    """
    return _decode_direction(bytes(data), direction,
                             _Where([Record(0, 0, direction, 0.0, bytes(data))]), tls_from)


def _decode_direction(data: bytes, direction: str, where: _Where,
                      tls_from: int | None) -> list[Message]:
    try:
        if tls_from is None:
            messages, reached, _ = _ldap_messages(data, 0, direction, where, False, None)
            if reached < len(data):
                messages += _tls_records(data, reached, direction, where)
            return messages
        messages, _, _ = _ldap_messages(data[:tls_from], 0, direction, where, False, None)
        return messages + _tls_records(data, tls_from, direction, where)
    except _BerError as exc:
        raise _decode_error(exc, direction, data) from None


def decode(records: Iterable[Record]) -> list[Message]:
    """Decode a tap's records into LDAP messages and TLS records, in the order they crossed.

    Each TCP connection is decoded on its own, each direction as one byte stream.  A stream
    that starts with a TLS record (LDAPS) is shown as TLS records throughout.  After a
    StartTLS request (``extendedReq`` 1.3.6.1.4.1.1466.20037) that the server answered with
    success, the rest of both streams is TLS.  TLS records are marked ``encrypted`` once the
    data is protected: their bytes are shown, never read.

    Parameters
    ----------
    records
        :attr:`Tap.records` (or a selection of them).

    Returns
    -------
    list of Message
        Sorted by the order their first byte crossed the tap.

    Raises
    ------
    OperationError
        ``result="decodingError"`` when a stream is not LDAP/TLS or is cut short (a capture
        truncated by ``max_bytes``); the message says which direction and offset.
    """
    by_connection: dict[int, dict[str, list[Record]]] = {}
    for r in records:
        by_connection.setdefault(r.connection, {CLIENT_TO_SERVER: [], SERVER_TO_CLIENT: []})[
            r.direction].append(r)
    out: list[Message] = []
    for streams in by_connection.values():
        client_records, server_records = streams[CLIENT_TO_SERVER], streams[SERVER_TO_CLIENT]
        client = b"".join(r.data for r in client_records)
        server = b"".join(r.data for r in server_records)
        cw, sw = _Where(client_records), _Where(server_records)
        if _looks_like_tls(client) or _looks_like_tls(server):  # LDAPS: TLS from byte one
            out += _decode_direction(client, CLIENT_TO_SERVER, cw, 0)
            out += _decode_direction(server, SERVER_TO_CLIENT, sw, 0)
            continue
        try:
            c_msgs, c_at, starttls_id = _ldap_messages(client, 0, CLIENT_TO_SERVER, cw, True,
                                                       None)
        except _BerError as exc:
            raise _decode_error(exc, CLIENT_TO_SERVER, client) from None
        if starttls_id is None:
            out += c_msgs
            if c_at < len(client):
                out += _tls_tail(client, c_at, CLIENT_TO_SERVER, cw)
            out += _decode_direction(server, SERVER_TO_CLIENT, sw, None)
            continue
        try:
            s_msgs, s_at, accepted = _ldap_messages(server, 0, SERVER_TO_CLIENT, sw, False,
                                                    starttls_id)
        except _BerError as exc:
            raise _decode_error(exc, SERVER_TO_CLIENT, server) from None
        out += c_msgs + s_msgs
        if accepted is not None:  # both sides now speak TLS
            out += _tls_tail(client, c_at, CLIENT_TO_SERVER, cw)
            out += _tls_tail(server, s_at, SERVER_TO_CLIENT, sw)
        else:  # StartTLS refused: the client may carry on in clear
            try:
                more, reached, _ = _ldap_messages(client, c_at, CLIENT_TO_SERVER, cw, False,
                                                  None)
            except _BerError as exc:
                raise _decode_error(exc, CLIENT_TO_SERVER, client) from None
            out += more
            if reached < len(client):
                out += _tls_tail(client, reached, CLIENT_TO_SERVER, cw)
            if s_at < len(server):
                out += _tls_or_ldap_tail(server, s_at, sw)
    out.sort(key=lambda m: (m.seq, m.connection, m.offset))
    return out


def _tls_tail(data: bytes, start: int, direction: str, where: _Where) -> list[Message]:
    try:
        return _tls_records(data, start, direction, where)
    except _BerError as exc:
        raise _decode_error(exc, direction, data) from None


def _tls_or_ldap_tail(data: bytes, start: int, where: _Where) -> list[Message]:
    try:
        messages, reached, _ = _ldap_messages(data, start, SERVER_TO_CLIENT, where, False, None)
        if reached < len(data):
            messages += _tls_records(data, reached, SERVER_TO_CLIENT, where)
        return messages
    except _BerError as exc:
        raise _decode_error(exc, SERVER_TO_CLIENT, data) from None


# ==========================================================================================
# Display helpers
# ==========================================================================================
def hexdump(data: bytes, *, width: int = 16, start: int = 0, limit: int | None = 4096) -> str:
    """A classic hex dump: offset, bytes in hex, printable ASCII.

    Parameters
    ----------
    data
        The bytes.
    width
        Bytes per line.
    start
        The offset printed for the first byte.
    limit
        Show at most this many bytes (None: all); a last line says how many were left out.

    Returns
    -------
    str

    Examples
    --------
    >>> print(hexdump(b"0\\x0c\\x02\\x01\\x01`\\x07secret"))
    0000  30 0c 02 01 01 60 07 73 65 63 72 65 74           0....`.secret
    """
    shown = data if limit is None else data[:limit]
    lines = []
    for i in range(0, len(shown), width):
        chunk = shown[i:i + width]
        hexes = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{start + i:04x}  {hexes}  {text}")
    if len(shown) < len(data):
        lines.append(f"... {len(data) - len(shown)} more bytes")
    return "\n".join(lines)


def messages_frame(messages: Sequence[Message]) -> pd.DataFrame:
    """One row per message: time, direction, protocol, id, operation, summary, bytes,
    encrypted.

    Examples
    --------
    >>> messages_frame(decode_stream(bytes.fromhex("30 05 02 01 02 42 00")))[
    ...     ["direction", "operation", "bytes"]].to_dict("records")
    [{'direction': 'client->server', 'operation': 'unbindRequest', 'bytes': 7}]
    """
    import pandas as pd

    columns = ["time", "connection", "direction", "protocol", "message_id", "operation",
               "summary", "bytes", "encrypted"]
    rows = [{"time": round(m.time, 6), "connection": m.connection, "direction": m.direction,
             "protocol": m.protocol, "message_id": m.message_id, "operation": m.operation,
             "summary": m.summary, "bytes": len(m.raw), "encrypted": m.encrypted}
            for m in messages]
    frame = pd.DataFrame(rows, columns=columns)
    frame["message_id"] = frame["message_id"].astype("Int64")
    return frame
