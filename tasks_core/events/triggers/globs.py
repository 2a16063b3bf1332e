"""Globs for event names and label values: compiled once, checked when a trigger is built.

A glob is matched the way `fnmatch.fnmatchcase` matches (``*`` any run of characters,
including none and including dots; ``?`` one character; ``[abc]`` / ``[!abc]`` one of /
none of a set; case-sensitive), compiled to a regular expression once per distinct text
(an LRU cache) so that matching an event costs one `re.match` per glob.

A leading ``!`` negates the glob: ``!tasks-core.flow-run.Failed`` matches any value
except that one. A missing value (a label the resource does not have) never matches,
negated or not, as in Prefect's server.

Refused (`GlobError`, naming the glob): an empty glob, a bare ``!``, a ``[`` without its
closing ``]`` (fnmatch would silently read it as a literal bracket), and globs over 1,024
characters.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["MAX_GLOB_LENGTH", "Glob", "GlobError", "compile_glob", "literal_prefix"]

MAX_GLOB_LENGTH = 1024
_SPECIAL = "*?["


class GlobError(ValueError):
    """A glob that cannot be used; the message names it and what is wrong."""


@dataclass(frozen=True)
class Glob:
    """A compiled glob: its source text, whether it is negated, and its pattern."""

    source: str
    negated: bool
    pattern: re.Pattern[str]

    def matches(self, value: str | None) -> bool:
        """Whether `value` matches; ``None`` (a missing label) never does."""
        if value is None:
            return False
        return (self.pattern.match(value) is not None) != self.negated

    @property
    def prefix(self) -> str:
        """The literal text every match starts with ("" for a negated glob)."""
        return "" if self.negated else literal_prefix(self.source)


def literal_prefix(glob: str) -> str:
    """The characters of `glob` before its first wildcard (``*``, ``?`` or ``[``)."""
    for index, char in enumerate(glob):
        if char in _SPECIAL:
            return glob[:index]
    return glob


def _check_brackets(body: str, source: str) -> None:
    index = 0
    while index < len(body):
        if body[index] == "[":
            end = index + 1
            if end < len(body) and body[end] == "!":
                end += 1
            if end < len(body) and body[end] == "]":
                end += 1  # a leading ']' is a literal member of the set
            close = body.find("]", end)
            if close < 0:
                raise GlobError(f"glob {source!r} has a '[' without a closing ']' "
                                "(write [[] for a literal '[')")
            index = close
        index += 1


@lru_cache(maxsize=8192)
def compile_glob(source: str) -> Glob:
    """The compiled `Glob` of `source`; `GlobError` for a glob that cannot be used."""
    if not isinstance(source, str):
        raise GlobError(f"a glob must be a string, got {type(source).__name__}")
    if len(source) > MAX_GLOB_LENGTH:
        raise GlobError(f"glob {source[:40]!r}... is {len(source)} characters, "
                        f"over the limit of {MAX_GLOB_LENGTH}")
    negated = source.startswith("!")
    body = source[1:] if negated else source
    if not body:
        raise GlobError("an empty glob matches nothing" if not negated
                        else "glob '!' negates nothing: write '!<glob>'")
    _check_brackets(body, source)
    return Glob(source, negated, re.compile(fnmatch.translate(body), re.DOTALL))
