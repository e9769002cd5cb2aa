"""The one exception type for bad input (scenario files, overrides and CSV data files).

Every reader collects all the problems it finds and raises once, so a user fixes a file in one pass
instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Longest list of problems shown for one data file; the rest are counted, not listed.
MAX_PROBLEMS = 20


class ScenarioError(ValueError):
    """Bad input: one human-readable message per problem.

    Parameters
    ----------
    problems : str or iterable of str
        The problems, each naming where it is (file, line or key) and what is allowed.

    Attributes
    ----------
    problems : list of str
        The messages; ``str(err)`` joins them with newlines.
    """

    def __init__(self, problems: str | Iterable[str]):
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
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
