"""One visible warning per lenient load (issue 10 section 7): problems recorded in
``Directory.warnings`` are summarised with counts and the fix, as a :class:`SchemaWarning`.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as seen:
...     warnings.simplefilter("always")
...     warn_load(["cn=a,dc=x (line 3): object class 'acmePerson' is not in the schema",
...                "cn=b,dc=x (line 9): object class 'acmePerson' is not in the schema",
...                "cn=b,dc=x (line 9): unknown attribute type 'favColour' kept, matched as a "
...                "case-insensitive string"], "people.ldif")
>>> print(seen[0].message)  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
people.ldif: 3 problems while loading leniently (entries kept as they are): 1 object
class the schema does not know: acmePerson (2 entries); 1 attribute type the schema does not
know: favColour. Searches on them may not answer as the exporting server would. Fix: load the
schema that defines them ... or strict=True to refuse the file; each problem is listed in
d.warnings.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Sequence

from .errors import SchemaWarning

__all__ = ["warn_load", "summary"]

_CLASS = re.compile(r"object class '([^']+)' is not in the schema")
_ATTR = re.compile(r"unknown attribute type '([^']+)'")
_SKIPPED = "record skipped, as a server refuses it"


def _names(counts: Counter[str], unit: str) -> str:
    shown = ", ".join(f"{name}" + (f" ({n} {unit}s)" if n > 1 else "")
                      for name, n in counts.most_common(8))
    more = f", and {len(counts) - 8} more" if len(counts) > 8 else ""
    return shown + more


def summary(problems: Sequence[str], source: str) -> str | None:
    """The text of the warning for ``problems`` (None when there are none)."""
    if not problems:
        return None
    from .schema import bundled_schemas

    classes: Counter[str] = Counter()
    attrs: Counter[str] = Counter()
    other = skipped = 0
    for p in problems:
        if _SKIPPED in p:
            skipped += 1
            continue
        m = _CLASS.search(p)
        if m:
            classes[m.group(1)] += 1
            continue
        m = _ATTR.search(p)
        if m:
            attrs[m.group(1)] += 1
            continue
        other += 1
    n = len(problems)
    parts = []
    if skipped:
        parts.append(f"{skipped} record{'s' if skipped > 1 else ''} skipped, as a server "
                     "refuses them and ldapadd -c skips them (duplicate DN, missing parent "
                     "...: each listed with its line in d.warnings)")
    if classes:
        parts.append(f"{len(classes)} object class{'es' if len(classes) > 1 else ''} the "
                     f"schema does not know: {_names(classes, 'entrie')}")
    if attrs:
        parts.append(f"{len(attrs)} attribute type{'s' if len(attrs) > 1 else ''} the schema "
                     f"does not know: {_names(attrs, 'entrie')}")
    if other:
        parts.append(f"{other} other schema violation{'s' if other > 1 else ''} (a missing "
                     "MUST, a value of the wrong syntax ...)")
    text = (f"{source}: {n} problem{'s' if n > 1 else ''} while loading leniently "
            f"(entries kept as they are): {'; '.join(parts)}. Searches on them may not answer "
            "as the exporting server would. Fix: ")
    if classes or attrs:
        text += ("load the schema that defines them (Directory.from_ldif(path, "
                 "schema=ldapnb.schema.load_schema(*ldapnb.schema.DEFAULT_FILES, 'yourfile')); "
                 f"bundled: {', '.join(bundled_schemas())}), or ")
    else:
        text += "correct the entries, or "
    return text + "strict=True to refuse the file; each problem is listed in d.warnings."


def warn_load(problems: Sequence[str], source: str, *, stacklevel: int = 3) -> None:
    """Issue one :class:`SchemaWarning` summarising ``problems`` (nothing when empty)."""
    text = summary(problems, source)
    if text:
        warnings.warn(text, SchemaWarning, stacklevel=stacklevel)
