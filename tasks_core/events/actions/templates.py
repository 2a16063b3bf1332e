"""Templates of actions: Jinja2 in `ImmutableSandboxedEnvironment`, with caps.

    RunDeployment(parameters={"n": "{{ event.payload.count }}",          # -> 3 (an int)
                              "who": "run for {{ labels['acme.user'] }}"})  # -> a str

A template that is one expression alone (``"{{ expr }}"``, whitespace around allowed)
keeps the expression's JSON type; any literal text around it makes a string. Dicts and
lists render recursively (keys are not templates).

Context: ``event`` (the event as JSON; ``event.resource.id`` / ``.name`` / ``.role`` read
those labels), ``labels`` (the event resource's labels), ``automation`` (``{"id",
"name"}``), ``firing`` (the `Firing` as JSON), and ``flow_run``, ``deployment``,
``work_pool`` (their records as JSON when the event names them, else None). A name that
does not exist is an error, not an empty string (`StrictUndefined`).

Caps, each a `TemplateError` naming it: ``range()`` over `MAX_RANGE` items, more than
`MAX_LOOP_ITERATIONS` loop iterations in one render, output over `MAX_OUTPUT_CHARS`
characters, a string or list repeated past `MAX_OUTPUT_CHARS`, an exponent over
`MAX_EXPONENT`, a number past `MAX_OUTPUT_CHARS` given to a method or a sizing filter
(``'x'.ljust(10**9)``, ``center``, ``indent``, ``format``), a ``%`` width past it. The
sandbox refuses attribute access to internals (``''.__class__``) and mutation of values.
"""

from __future__ import annotations

import contextvars
import functools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic_core import to_jsonable_python

from tasks_core.errors import TemplateError
from tasks_core.events.actions.errors import ActionError
from tasks_core.events.actions.models import Action
from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE

__all__ = ["MAX_EXPONENT", "MAX_LOOP_ITERATIONS", "MAX_OUTPUT_CHARS", "MAX_RANGE",
           "TemplateContext", "check_source", "compile_templates", "render_action",
           "render_source", "render_text", "render_value", "template_fields"]

MAX_RANGE = 10_000
MAX_LOOP_ITERATIONS = 100_000
MAX_OUTPUT_CHARS = 256 * 1024
MAX_EXPONENT = 1_000

_LONE = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)
_GUARD = "tc_loop_guard"
_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("template_budget")


def _spend(n: int = 1) -> None:
    budget = _budget.get(None)
    if budget is None:
        return
    budget[0] -= n
    if budget[0] < 0:
        raise TemplateError(f"template runs more than {MAX_LOOP_ITERATIONS} loop "
                            f"iterations (the cap)")


def _loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend()
        yield item


def _capped_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise TemplateError(f"range() of {len(values)} items, over the cap of {MAX_RANGE}")
    return values


_WIDTH = re.compile(r"%[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_sizes(args: Iterable[Any], what: str) -> None:
    """Refuse a number that would size a string past the cap (``'x'.ljust(10**9)``)."""
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and arg > MAX_OUTPUT_CHARS:
            raise TemplateError(f"{what} with {arg}: over the cap of {MAX_OUTPUT_CHARS} "
                                f"characters")


def _capped_filter(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def capped(*args: Any, **kwargs: Any) -> Any:
        _check_sizes([*args, *kwargs.values()], f"filter {name}")
        if name == "format" and args and isinstance(args[0], str):
            _check_format(args[0])
        return fn(*args, **kwargs)
    return capped


_SIZING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_SPEC_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(\d+)")


def _check_format_spec(text: str) -> None:
    for match in _SPEC_WIDTH.finditer(text):
        if int(match[1]) > MAX_OUTPUT_CHARS:
            raise TemplateError(f"format width {match[1]} is over the cap of "
                                f"{MAX_OUTPUT_CHARS} characters")


def _check_format(text: str) -> None:
    for match in _WIDTH.finditer(text):
        for size in match.groups():
            if size == "*" or (size and int(size) > MAX_OUTPUT_CHARS):
                raise TemplateError(f"format width {size} is refused (over the cap of "
                                    f"{MAX_OUTPUT_CHARS} characters, or given as *)")


class _Env(ImmutableSandboxedEnvironment):
    """The sandbox, with every ``{% for %}`` counted, the growing operators capped and no
    call or filter given a size past the output cap."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name(_GUARD, "load"), [loop.iter], [], None, None)
        return tree

    def call(__self, __context: Any, __obj: Any, *args: Any,  # jinja's own signature
             **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "")
        if isinstance(getattr(__obj, "__self__", None), str) and name in _SIZING_METHODS:
            _check_sizes([*args, *kwargs.values()], f"str.{name}")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # str.format is sandboxed where it is read (jinja), so its widths are checked here
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format",
                                                                           "format_map"):
            _check_format_spec(owner)
        return super().wrap_str_format(value)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "%":
            if isinstance(left, str):
                _check_format(left)
            return operator.mod(left, right)
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise TemplateError(f"exponent {right} is over the cap of {MAX_EXPONENT}")
            return operator.pow(left, right)
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int) \
                    and len(seq) * times > MAX_OUTPUT_CHARS:
                raise TemplateError(f"repeating a value {times} times makes more than "
                                    f"{MAX_OUTPUT_CHARS} items (the cap)")
        return operator.mul(left, right)


@functools.cache
def _env() -> _Env:
    env = _Env(undefined=jinja2.StrictUndefined, autoescape=False)
    env.globals["range"] = _capped_range
    env.globals[_GUARD] = _loop_guard
    for name in ("center", "indent", "format", "wordwrap", "truncate"):
        env.filters[name] = _capped_filter(env.filters[name], name)
    return env


@functools.lru_cache(maxsize=1024)
def _compile(source: str) -> tuple[jinja2.Template | None, Callable[..., Any] | None]:
    """(template, None) for text, (None, expression) for a lone ``{{ expr }}``."""
    lone = _LONE.match(source)
    if lone and "{{" not in lone["expr"] and "}}" not in lone["expr"]:
        try:
            return None, _env().compile_expression(lone["expr"], undefined_to_none=False)
        except jinja2.TemplateSyntaxError:
            pass  # e.g. "{{ a }} x {{ b }}" matched greedily: compile as text
    return _template(source), None


class _Labels(dict[str, str]):
    """A resource's labels; ``.id``, ``.name``, ``.role`` read the usual ones."""

    @property
    def id(self) -> str | None:
        return self.get(RESOURCE_ID)

    @property
    def name(self) -> str | None:
        return self.get(RESOURCE_NAME)

    @property
    def role(self) -> str | None:
        return self.get(RESOURCE_ROLE)


@dataclass(frozen=True)
class TemplateContext:
    """What templates see (JSON data; see the module docstring).

    Attributes:
        event: the triggering event as JSON (``Event.model_dump(mode="json")``), or {}.
        automation: ``{"id", "name"}`` of the automation.
        firing: the firing as JSON.
        flow_run, deployment, work_pool: records as JSON, None when the event names none.
    """

    event: Mapping[str, Any] = field(default_factory=dict)
    automation: Mapping[str, Any] = field(default_factory=dict)
    firing: Mapping[str, Any] = field(default_factory=dict)
    flow_run: Mapping[str, Any] | None = None
    deployment: Mapping[str, Any] | None = None
    work_pool: Mapping[str, Any] | None = None

    def variables(self) -> dict[str, Any]:
        """The names a template can use."""
        event = dict(self.event)
        resource = _Labels(event.get("resource") or {})
        event["resource"] = resource
        event["related"] = [_Labels(r) for r in event.get("related") or []]
        return {"event": event, "labels": resource, "automation": dict(self.automation),
                "firing": dict(self.firing), "flow_run": self.flow_run,
                "deployment": self.deployment, "work_pool": self.work_pool}


def _guarded(run: Callable[[], Any]) -> Any:
    token = _budget.set([MAX_LOOP_ITERATIONS])
    try:
        return run()
    except TemplateError:
        raise
    except SecurityError as exc:
        raise TemplateError(f"not allowed in a template: {exc}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # a template's own error: division by zero, a bad index
        raise TemplateError(f"{type(exc).__name__}: {exc}") from None
    finally:
        _budget.reset(token)


def _text(template: jinja2.Template, variables: dict[str, Any]) -> str:
    parts: list[str] = []
    size = 0
    for chunk in template.generate(variables):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise TemplateError(f"template output is over the cap of {MAX_OUTPUT_CHARS} "
                                f"characters")
        parts.append(chunk)
    return "".join(parts)


def render_text(source: str, context: TemplateContext) -> str:
    """`source` rendered as text (always a string).

    Raises:
        TemplateError: a syntax error, an undefined name, a sandbox refusal, a cap.
    """
    variables = context.variables()
    return str(_guarded(lambda: _text(_template(source), variables)))


def render_source(source: str, variables: Mapping[str, Any]) -> str:
    """`source` rendered as text with `variables` as its context, in the same sandbox and
    caps (webhooks use it with their own context).

    Raises:
        TemplateError: as `render_text`.
    """
    names = dict(variables)
    return str(_guarded(lambda: _text(_template(source), names)))


def check_source(source: str) -> None:
    """Check `source` parses as a text template in the sandbox (nothing is rendered).

    Raises:
        TemplateError: the syntax error, with its line.
    """
    try:
        _template(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"invalid template: {exc.message} (line {exc.lineno})") from None


def render_value(value: Any, context: TemplateContext) -> Any:
    """`value` with every string rendered: a lone ``{{ expr }}`` keeps its JSON type, other
    strings render as text; dicts and lists recursively; other values as they are.

    Raises:
        TemplateError: as `render_text`, or a result that is not JSON data.
    """
    variables = context.variables()
    return _guarded(lambda: _walk(value, variables))


def _walk(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, str):
        template, expression = _compile_checked(value, text=False)
        if expression is not None:
            result = expression(**variables)
            if isinstance(result, jinja2.Undefined):
                str(result)  # StrictUndefined raises, naming what is missing
            return to_jsonable_python(result, fallback=str)
        assert template is not None
        return _text(template, variables)
    if isinstance(value, dict):
        return {k: _walk(v, variables) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, variables) for v in value]
    return value


def _compile_checked(source: str, *, text: bool) -> tuple[Any, Any]:
    return (_template(source), None) if text else _compile(source)


@functools.lru_cache(maxsize=1024)
def _template(source: str) -> jinja2.Template:
    return _env().from_string(source)


def template_fields(action: Action) -> dict[str, Any]:
    """The templated fields of `action` that are set: field name -> value."""
    return {name: getattr(action, name) for name in type(action).templated
            if getattr(action, name) is not None}


def compile_templates(action: Action) -> None:
    """Check every template of `action` compiles (no Redis; run when an automation is
    saved).

    Raises:
        ActionError: naming the action, the field (``parameters.count``) and the syntax
            error with its line.
    """
    for name, value in template_fields(action).items():
        for path, source in _strings(value, name):
            try:
                _compile(source)
            except jinja2.TemplateSyntaxError as exc:
                raise ActionError(f"{type(action).__name__}: {path}: invalid template: "
                                  f"{exc.message} (line {exc.lineno})") from None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def render_action(action: Action, context: TemplateContext) -> Action:
    """A copy of `action` with its templated fields rendered (see `Action.templated`):
    text fields (subject, body, message, header values, a string payload) as strings,
    parameters and a JSON payload as JSON values.

    Raises:
        TemplateError: naming the field and the render error.
    """
    updates: dict[str, Any] = {}
    for name, value in template_fields(action).items():
        try:
            if isinstance(value, str):
                updates[name] = render_text(value, context)
            elif name == "headers":
                updates[name] = {k: render_text(v, context) for k, v in value.items()}
            else:
                updates[name] = render_value(value, context)
        except TemplateError as exc:
            raise TemplateError(f"{type(action).__name__}: {name}: {exc}") from None
    return action.model_copy(update=updates)
