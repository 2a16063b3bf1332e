"""Argument annotations of Prefect (``prefect.utilities.annotations``, exported by
``prefect``): wrappers that change how a task call treats one argument.

- ``unmapped(value)``: `.map()` passes `value` whole to every run instead of mapping over
  it (``add.map([1, 2, 3], unmapped([10]))``).
- ``allow_failure(future)``: in ``wait_for=[...]`` or as an argument, the downstream run
  starts even when that upstream run failed; as an argument it receives the upstream's
  exception instead of a value.
- ``quote(value)``: `value` is passed as it is: futures inside it are not resolved (and it
  is not mapped over).

Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

__all__ = ["BaseAnnotation", "allow_failure", "quote", "unmapped", "unwrap"]

T = TypeVar("T")


class BaseAnnotation(Generic[T]):
    """A wrapped argument; `.value` (and ``.unwrap()``) is what it wraps."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def unwrap(self) -> T:
        """The wrapped value."""
        return self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and type(other) is type(self) and (
            other.value == self.value)

    def __hash__(self) -> int:
        return hash((type(self), id(self.value)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class unmapped(BaseAnnotation[T]):  # lower case: Prefect's spelling
    """Pass this value whole to every run of a `.map()`, instead of mapping over it."""


class allow_failure(BaseAnnotation[T]):  # lower case: Prefect's spelling
    """Let the downstream run start even when this upstream run failed (in ``wait_for``
    or as an argument, where the run then receives the upstream's exception)."""


class quote(BaseAnnotation[T]):  # lower case: Prefect's spelling
    """Pass this value as it is: futures inside it are not resolved, nor mapped over."""


def unwrap(value: Any) -> Any:
    """`value` without an annotation around it."""
    return value.value if isinstance(value, BaseAnnotation) else value
