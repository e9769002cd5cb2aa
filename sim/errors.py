"""The one exception type for bad input (scenario files, overrides and CSV data files).

Every reader collects all the problems it finds and raises once, so a user fixes a file in one pass
instead of one error per run. A message echoes the bad value through :func:`shown` (or a key or other
text through :func:`cut`), so a value of megabytes never floods the terminal; :class:`ScenarioError`
itself cuts any message still too long and keeps at most :data:`MAX_MESSAGES` of them.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from typing import Any

#: Longest list of problems shown for one data file; the rest are counted, not listed.
MAX_PROBLEMS = 20

#: Most problems one error lists; the rest are counted, not listed.
MAX_MESSAGES = 100

#: Longest echo of a bad value (or key) in a message, in characters; a longer one is cut and its length given.
MAX_SHOWN = 200

#: Longest message; only a message that echoes something without :func:`shown` or :func:`cut` gets near it.
MAX_MESSAGE = 4000


class ScenarioError(ValueError):
    """Bad input: one human-readable message per problem.

    Parameters
    ----------
    problems : str or iterable of str
        The problems, each naming where it is (file, line or key) and what is allowed. At most
        :data:`MAX_MESSAGES` are kept (then one ``"... and N more"`` line), each at most :data:`MAX_MESSAGE`
        characters long.

    Attributes
    ----------
    problems : list of str
        The messages; ``str(err)`` joins them with newlines.
    """

    def __init__(self, problems: str | Iterable[str]):
        given = [problems] if isinstance(problems, str) else list(problems)
        self.problems: list[str] = [cut(str(p), MAX_MESSAGE) for p in capped(given, MAX_MESSAGES)]
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(self.problems)


def capped(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """Return at most ``limit`` problems, then one ``"... and N more"`` line for the rest.

    Parameters
    ----------
    problems : list of str
        All problems found.
    limit : int
        How many to keep verbatim.

    Returns
    -------
    list of str
    """
    if len(problems) <= limit:
        return list(problems)
    return problems[:limit] + [f"... and {len(problems) - limit} more"]


def cut(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` if it is at most ``limit`` characters long, else its start and how long it is."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


class _Repr(reprlib.Repr):
    """``repr`` for messages: strings cut with their length given, deep or long containers abbreviated."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 4
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = 12
        self.maxstring = self.maxother = self.maxlong = MAX_SHOWN

    def repr_str(self, x: str, level: int) -> str:
        return repr(x) if len(x) <= self.maxstring else f"{x[: self.maxstring]!r}… ({len(x):,} characters)"

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 3 * self.maxlong:  # Python refuses to print an int of more than 4300 digits
            return f"<an integer of about {x.bit_length() * 0.30103:,.0f} digits>"
        return super().repr_int(x, level)


_REPR = _Repr()


def shown(value: Any) -> str:
    """``repr(value)`` for a message: the same for a short value; a long string is cut to :data:`MAX_SHOWN`
    characters with its length given, a deep or long array or table is abbreviated with ``...``, and the whole
    stays within a few times :data:`MAX_SHOWN` characters."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a value whose repr fails still gets a message
        text = f"<{type(value).__name__}>"
    return cut(text, 4 * MAX_SHOWN)
