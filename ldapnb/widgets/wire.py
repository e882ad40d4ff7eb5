"""WireViewer: the messages of a real capture (ldapnb.teach.wire), decoded field by field."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as h
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ._common import Thin, display_frame

if TYPE_CHECKING:
    from ..teach.wire import Capture, Message

__all__ = ["WireViewer"]

_FIELD_COLUMNS = ["path", "tag", "tag_name", "length", "value", "raw"]


def _option(i: int, m: Message) -> str:
    mid = f" #{m.message_id}" if m.message_id is not None else ""
    lock = " 🔒" if m.encrypted else ""
    return f"{i + 1:>3}. {m.direction}  {m.protocol}{mid} {m.operation}{lock}"


def fields_html(m: Message) -> str:
    """A message's fields (:attr:`ldapnb.teach.wire.Message.fields`) as an HTML table,
    nested fields indented."""
    rows = []
    for f in m.fields:
        pad = "&nbsp;" * 3 * f.depth
        rows.append(
            "<tr>" + f"<td style='text-align:left'>{pad}{h(f.path)}</td>"
            + "".join(f"<td style='text-align:left'>{h(str(v))}</td>"
                      for v in (f.tag, f.tag_name, f.length, f.value))
            + f"<td style='text-align:left'><code>{h(f.raw)}</code></td></tr>")
    head = "".join(f"<th style='text-align:left'>{c}</th>" for c in _FIELD_COLUMNS)
    return (f"<table class='ldapnb-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


class WireViewer(Thin):
    """Step through what crossed the wire: each LDAP message (or TLS record) of a capture,
    its fields (path, tag, length, value, raw bytes) and its hex dump.

    Parameters
    ----------
    capture : Capture or sequence of Message
        From :func:`ldapnb.teach.wire.capture_bind` (or :func:`~ldapnb.teach.wire.decode`).
    start : str
        The operation shown first (the first message with it), ``"bindRequest"`` by default.

    Attributes
    ----------
    message : ipywidgets.Dropdown
        Which message (its value is the index in :attr:`messages`).
    messages : list of Message
    selected : Message or None
    header : ipywidgets.HTML
        The capture in one line: mode, URL, message and TLS record counts, and whether the
        password could be read on the wire.
    overview : ipywidgets.Widget
        Every message, one row each (:func:`ldapnb.teach.wire.messages_frame`), sortable.
    fields : ipywidgets.HTML
        The selected message's fields.
    hexdump : ipywidgets.HTML
        The selected message's bytes.
    """

    def __init__(self, capture: Capture | Sequence[Message], *, start: str = "bindRequest"):
        from ..teach import wire

        self.capture: Capture | None = None
        if isinstance(capture, wire.Capture):
            self.capture = capture
            self.messages: list[Message] = list(capture.messages)
        else:
            self.messages = list(capture)
        self.selected: Message | None = None
        self.header = W.HTML(self._header())
        self.overview = _overview(wire.messages_frame(self.messages))
        options = [(_option(i, m), i) for i, m in enumerate(self.messages)]
        first = next((i for i, m in enumerate(self.messages) if m.operation == start), 0)
        self.message = W.Dropdown(options=options, value=first if options else None,
                                  description="Message", layout=W.Layout(width="90%"))
        self.summary = W.HTML()
        self.fields = W.HTML()
        self.hexdump = W.HTML()
        self.message.observe(self._changed, names="value")
        self.widget = W.VBox([self.header, self.overview, self.message, self.summary,
                              self.fields, W.HTML("<b>Bytes</b>"), self.hexdump])
        self.show(self.message.value)

    def _header(self) -> str:
        c = self.capture
        if c is None:
            return f"<b>{len(self.messages)}</b> messages"
        if c.password_visible:
            verdict = ("<span style='color:#b00020'><b>the password can be read on the "
                       "wire</b></span>")
        else:
            verdict = ("<span style='color:#1b7f3b'><b>the password cannot be read on the "
                       "wire</b></span>")
        error = f"; error: {h(str(c.error))}" if c.error is not None else ""
        return (f"<b>{h(c.mode)}</b> via <code>{h(c.url)}</code>: {len(c.records)} chunks, "
                f"{len(c.messages)} messages, {c.tls_records} TLS records; bound: "
                f"{c.bound}, entries: {c.entries}. {verdict}{error}")

    def _changed(self, change: dict) -> None:
        self.show(change["new"])

    def show(self, index: int | None) -> None:
        """Show message number ``index`` (0-based)."""
        if index is None or not self.messages:
            self.selected = None
            self.summary.value = self.fields.value = self.hexdump.value = ""
            return
        m = self.selected = self.messages[index]
        lock = (" <span style='color:#1b7f3b'>encrypted - unreadable</span>"
                if m.encrypted else "")
        self.summary.value = (f"<b>{h(m.direction)} {h(m.protocol)} {h(m.operation)}</b>: "
                              f"{h(m.summary)} ({len(m.raw)} bytes){lock}")
        self.fields.value = fields_html(m)
        self.hexdump.value = f"<pre>{h(m.hexdump())}</pre>"


def _overview(frame: Any) -> W.Widget:
    try:
        from itables.widget import ITable
    except ImportError:  # pragma: no cover - itables is in the notebook extra
        return W.HTML(frame.to_html(index=False))
    return ITable(display_frame(frame), classes="display compact", maxBytes=0, pageLength=10,
                  lengthMenu=[10, 25, 100])
