"""The exercises' machinery, shared by every module of exercises and solutions.

:class:`Verdict` and :class:`Exercise`, the registries :data:`EXERCISES` and
:data:`SOLUTIONS`, the decorators that fill them and :func:`check`.  The lessons' checks live
in :mod:`ldapnb.teach.exercises` and :mod:`ldapnb.teach.net_exercises`, their solutions in
:mod:`ldapnb.teach.solutions` and :mod:`ldapnb.teach.net_solutions`; each imports this module
and none imports another of them at module level, so there is no import cycle.
:mod:`ldapnb.teach.exercises` imports :mod:`~ldapnb.teach.net_exercises` (and the solutions
module its network half) so that importing it registers every exercise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape as h
from typing import Any

from ..errors import LdapnbError

__all__ = ["KINDS", "Verdict", "Exercise", "EXERCISES", "SOLUTIONS", "check", "question",
           "solve"]

#: The kinds of exercise.
KINDS = ("recall", "build", "debug")


@dataclass(frozen=True)
class Verdict:
    """What a check says about an answer: ``ok``, a ``message`` and, when wrong, a ``hint``.

    True when the answer is right.  ``answered`` is False while the answer is still the
    ``...`` placeholder (neither right nor wrong yet: "your turn").
    """

    exercise: str
    ok: bool
    message: str
    hint: str = ""
    answered: bool = True

    def __bool__(self) -> bool:
        return self.ok

    def _mark(self) -> tuple[str, str, str]:
        if not self.answered:
            return "#555555", "✎ your turn", "✎ Your turn"
        if self.ok:
            return "#1b7f3b", "✓ right", "✓ Right"
        return "#b00020", "✗ not yet", "✗ Not yet"

    def __str__(self) -> str:
        text = f"[{self.exercise}] {self._mark()[1]}: {self.message}"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour, _, mark = self._mark()
        hint = f"<div><b>Hint:</b> {h(self.hint)}</div>" if self.hint else ""
        return (f"<div class='ldapnb-verdict' style='border-left:4px solid {colour};"
                f"padding:4px 10px'><b style='color:{colour}'>{mark}</b> "
                f"<small>(exercise {h(self.exercise)})</small>: {h(self.message)}{hint}</div>")


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``id`` (lesson.number), ``kind`` (recall, build, debug), the
    ``question`` and its ``check``."""

    id: str
    question: str
    check: Callable[..., Verdict]
    kind: str = "recall"

    @property
    def lesson(self) -> str:
        """The lesson's number, ``"02"`` for exercise ``"02.5"``."""
        return self.id.split(".")[0]


#: Every exercise, by id.
EXERCISES: dict[str, Exercise] = {}


def _exercise(id: str, question: str, kind: str = "recall"
              ) -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
    """Register a check; an unanswered ``...`` gets "your turn"; any error inside the check
    becomes a verdict with a hint."""
    if kind not in KINDS:  # pragma: no cover - a programming error in this module
        raise ValueError(f"exercise {id}: kind {kind!r} is not one of {KINDS}")

    def wrap(check: Callable[..., Verdict]) -> Callable[..., Verdict]:
        @functools.wraps(check)
        def safe(*args: Any, **kwargs: Any) -> Verdict:
            if any(a is ... for a in (*args, *kwargs.values())):
                return Verdict(id, False, "replace the ... with your answer, then run the "
                                          "cell again.", answered=False)
            try:
                return check(*args, **kwargs)
            except LdapnbError as exc:
                return _no(id, "that answer could not be used.", f"ldapnb says: {exc}")
            except Exception as exc:  # noqa: BLE001 - a check must never show a traceback
                return _no(id, "that answer could not be checked.",
                           f"{type(exc).__name__}: {exc}. Re-read the question: what kind of "
                           "answer does it ask for?")

        safe.question = question  # type: ignore[attr-defined]
        EXERCISES[id] = Exercise(id, question, safe, kind)
        return safe

    return wrap


def check(id: str, *answers: Any) -> Verdict:
    """Check the answer(s) to exercise ``id``: the call every answer cell ends with.

    Parameters
    ----------
    id : str
        The exercise, ``"02.5"``.
    *answers
        What the exercise asks for (most take one answer; some take what you built first,
        e.g. a capture or a lab, then the answer).

    Returns
    -------
    Verdict
        ✓ when right; otherwise what is wrong and a hint.  An unknown id is a verdict too.

    Examples
    --------
    >>> from ldapnb.teach import exercises  # registers the lessons' exercises
    >>> check("02.1", ...).answered
    False
    >>> bool(check("99.9", 1)), "exercises are" in check("99.9", 1).hint
    (False, True)
    """
    exercise = EXERCISES.get(str(id).strip())
    if exercise is None:
        return _no(str(id), "there is no such exercise.",
                   f"the exercises are {', '.join(sorted(EXERCISES))}.")
    return exercise.check(*answers)


def question(id: str) -> str:
    """The question of exercise ``id``.

    >>> from ldapnb.teach import exercises
    >>> question("01.1")[:20]
    'What is the naming c'
    """
    return EXERCISES[id].question


def _yes(id: str, message: str) -> Verdict:
    return Verdict(id, True, message)


def _no(id: str, message: str, hint: str) -> Verdict:
    return Verdict(id, False, message, hint)


def _words(answer: Any) -> list[str]:
    """An answer given as a list, a set or a comma/space separated string, as words."""
    if isinstance(answer, str):
        return [w for w in answer.replace(",", " ").replace(";", " ").split() if w]
    if isinstance(answer, Iterable):
        return [str(w).strip() for w in answer if str(w).strip()]
    return [str(answer)]


def _text(answer: Any) -> str:
    return str(answer).strip() if answer is not None else ""


#: exercise id -> a function returning the check's arguments (the teacher's side).
SOLUTIONS: dict[str, Callable[..., tuple[Any, ...]]] = {}


def _solution(id: str) -> Callable[[Callable[..., tuple[Any, ...]]],
                                   Callable[..., tuple[Any, ...]]]:
    def register(function: Callable[..., tuple[Any, ...]]) -> Callable[..., tuple[Any, ...]]:
        SOLUTIONS[id] = function
        return function

    return register


def solve(id: str, *context: Any) -> tuple[Any, ...]:
    """The arguments that answer exercise ``id`` (given what the student made, if any)."""
    return SOLUTIONS[id](*context)
