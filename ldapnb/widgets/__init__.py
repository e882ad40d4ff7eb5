"""Interactive widgets: a thin UI over ldapnb's library (``pip install ldapnb[notebook]``).

Each widget is a plain object whose ``.widget`` is what Jupyter shows (displaying the
object shows it); its controls are attributes whose ``.value`` can be set from Python,
which is how they are tested without a browser.  Everything they compute comes from the
library (:mod:`ldapnb.filters`, :mod:`ldapnb.graph`, :mod:`ldapnb.audit`,
:mod:`ldapnb.teach.wire`).

=================  ===========================================================================
SearchExplorer     base, scope, filter (validated as you type), attributes -> sortable table
TreeBrowser        the DIT, expand/collapse, pick an entry to see its attributes
FilterTutor        a filter's parse tree and, per entry, which sub-filter matched and why
GroupExplorer      effective groups/members of a user or group, the chain drawn as a graph
WireViewer         a capture's LDAP messages / TLS records, field by field, and their bytes
AuditDashboard     threshold sliders -> audit findings, counted by severity
progress, track    progress bars for long loads (load_ldif: from_ldif with a bar)
=================  ===========================================================================
"""

from __future__ import annotations

from .audit import AuditDashboard, evidence_text
from .groups import GroupExplorer, chain_svg
from .progress import load_ldif, progress, track
from .search import SearchExplorer, name_filter, search_bases
from .tree import TreeBrowser
from .tutor import FilterTutor, matched_leaves, parse_tree, trace_entry
from .wire import WireViewer, fields_html

__all__ = [
    "SearchExplorer",
    "TreeBrowser",
    "FilterTutor",
    "GroupExplorer",
    "WireViewer",
    "AuditDashboard",
    "name_filter",
    "search_bases",
    "parse_tree",
    "trace_entry",
    "matched_leaves",
    "chain_svg",
    "fields_html",
    "evidence_text",
    "progress",
    "track",
    "load_ldif",
]
