"""Declarative mappings for JSON sources.

A mapping file (YAML) says where each canonical field comes from. It is validated and compiled once
into closures, so mapping a payload is a walk over prebuilt functions. The canonical model drives
the compile: it knows which fields are objects, lists, money or date-times, which are required, and
what each value is finally converted to.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from orderhub.mapping.errors import MappingError, MappingFileError, UnknownMappingError
from orderhub.mapping.transforms import RULE_PARAMS, TRANSFORMS, Getter, Run, amount, json_type, lookup_key
from orderhub.model import Money, Order, RefundOf, Source, check_totals

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "mappings"


@dataclass(frozen=True)
class MappingContext:
    """What the connector knows about a payload; the mapping adds what the payload says."""

    connector: str
    account: str
    channel: str
    received_at: datetime
    raw_ref: str
    timezone: str = "UTC"  # where the source writes local times without an offset (X12 GS04/GS05)
    # a trading partner's defaults and cross-references (X12): currency when the payload names none,
    # their part numbers -> our SKUs, their units of measure -> ours
    currency: str | None = None
    sku_xref: dict[str, str] = field(default_factory=dict)
    uom_xref: dict[str, str] = field(default_factory=dict)


# --- YAML with line numbers ---------------------------------------------------------------------


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line = 0
    lines: dict[Any, int]


class _Seq(list[Any]):
    line = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Map:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    loader.flatten_mapping(node)  # YAML merge keys (`<<: *anchor`)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    # Numbers with a fraction in mapping files are Decimals too: no float anywhere.
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise yaml.constructor.ConstructorError(
            None, None, f"not a decimal number: {text!r}", node.start_mark
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _line(spec: Any, key: Any = None, default: int = 0) -> int:
    if isinstance(spec, _Map):
        return spec.lines.get(key, spec.line)
    return spec.line if isinstance(spec, _Seq) else default


# --- The canonical model, as the compiler sees it -----------------------------------------------


@dataclass(frozen=True)
class _Field:
    kind: str  # str, str_list, money, decimal, datetime, date, bool, object, object_list, dict, any
    required: bool = False
    model: type[BaseModel] | None = None
    choices: tuple[str, ...] = ()


_ANY = _Field("any")
_SCALARS: dict[Any, str] = {
    str: "str",
    bool: "bool",
    Decimal: "decimal",
    datetime: "datetime",
    date: "date",
    Money: "money",
}
# Set from the connector's context or by the engine, never by a mapping file.
_ENGINE_OWNED: dict[type[BaseModel], frozenset[str]] = {
    Order: frozenset({"schema_version", "id", "revision", "issues"}),
    Source: frozenset({"channel", "connector", "account", "received_at", "raw_ref"}),
}


def _describe(tp: Any) -> _Field:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return _describe(args[0])
    if origin is Union or origin is types.UnionType:
        inner = [arg for arg in args if arg is not type(None)]
        return _describe(inner[0]) if len(inner) == 1 else _ANY
    if origin is Literal:
        return _Field("str", choices=tuple(str(arg) for arg in args))
    if origin is list:
        item = _describe(args[0])
        if item.kind == "object":
            return _Field("object_list", model=item.model)
        return _Field("str_list") if item.kind == "str" else _ANY
    if origin is dict:
        return _Field("dict")
    if tp in _SCALARS:
        return _Field(_SCALARS[tp])
    if isinstance(tp, type) and issubclass(tp, Enum):
        return _Field("str", choices=tuple(str(member.value) for member in tp))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _Field("object", model=tp)
    return _ANY


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, _Field]:
    owned = _ENGINE_OWNED.get(model, frozenset())
    fields = {}
    for name, info in model.model_fields.items():
        if name not in owned:
            described = _describe(info.annotation)
            fields[name] = _Field(described.kind, info.is_required(), described.model, described.choices)
    return fields


# The conversion every value of a field kind ends with (after the rule's own transforms).
_COERCE = {
    "str": "string",
    "str_list": "string",
    "money": "money",
    "decimal": "decimal",
    "datetime": "datetime",
    "date": "date",
    "bool": "bool",
}


# --- Paths ----------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\[([^\[\]]*)\]|\.|[^.\[\]]+")
_INDEX = re.compile(r"-?\d+")
_MATCH_INNER = re.compile(r"(\?)?\s*([A-Za-z_][\w-]*)\s*=\s*(\S.*)")
_KEY, _AT, _DYNAMIC, _EACH, _MATCH, _FILTER = range(6)


@dataclass(frozen=True)
class _Path:
    text: str
    get: Getter
    many: bool  # iterates a list (`[]`): yields a list of values
    key: str | None = None  # the one name of a path like `sku`, read inline by rules


def _as_index(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INDEX.fullmatch(value):
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


def compile_path(text: Any) -> _Path:
    """`a.b[0].c`, `items[].sku`, `$.x` (from the document root), `$.apps[item_index].code`, `@`,
    `$.tax_lines[rate_id=id].label`.

    Paths without `$` start at the object in scope; `@` is that object itself. A name inside
    brackets is a path (from the object in scope) whose value is the index; `[key=path]` is the
    first item whose `key` equals the value of the path, and `[?key=path]` all of them (like `[]`);
    a quoted right side is a literal: `N1[N101='ST']`.
    Raises ValueError on bad syntax.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a path must be a non-empty text")
    if text == "@":
        return _Path(text, lambda node, run: node, many=False)
    rooted = text == "$" or text.startswith(("$.", "$["))
    rest = text[1:] if rooted else text
    need_name = not rooted
    if rooted and rest.startswith("."):
        rest, need_name = rest[1:], True
    steps: list[tuple[int, Any]] = []
    pos = 0
    while pos < len(rest):
        match = _TOKEN.match(rest, pos)
        if match is None:
            raise ValueError(f"bad path {text!r}: unbalanced bracket")
        token, pos = match.group(0), match.end()
        if (token != "." and token[0] != "[") != need_name:
            raise ValueError(f"bad path {text!r}: {token!r} where a name or '[' was expected")
        if token == ".":
            need_name = True
        elif token[0] == "[":
            inner = match.group(1).strip()
            if not inner:
                steps.append((_EACH, None))
            elif _INDEX.fullmatch(inner):
                steps.append((_AT, int(inner)))
            elif match_inner := _MATCH_INNER.fullmatch(inner):
                every, name, wanted = match_inner.groups()
                steps.append((_FILTER if every else _MATCH, (name, _wanted(wanted.strip()))))
            else:
                steps.append((_DYNAMIC, compile_path(inner).get))
        else:
            steps.append((_KEY, token))
            need_name = False
    if need_name:
        raise ValueError(f"bad path {text!r}: ends where a name was expected")
    many = any(kind in (_EACH, _FILTER) for kind, _ in steps)
    key = steps[0][1] if not rooted and len(steps) == 1 and steps[0][0] == _KEY else None
    return _Path(text, _key_getter(rooted, steps) or _general_getter(rooted, steps, many), many, key)


def _wanted(text: str) -> Getter:
    """The right side of `[key=...]`: a quoted literal (`'ST'`), else a path."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        literal = text[1:-1]
        return lambda node, run: literal
    return compile_path(text).get


def _key_getter(rooted: bool, steps: list[tuple[int, Any]]) -> Getter | None:
    """The fast case: only names."""
    if any(kind != _KEY for kind, _ in steps):
        return None
    keys = tuple(arg for _, arg in steps)
    if not rooted and len(keys) == 1:
        key = keys[0]
        return lambda node, run: node.get(key) if type(node) is dict else None

    def get(node: Any, run: Run) -> Any:
        current = run.doc if rooted else node
        for key in keys:
            if type(current) is not dict:
                return None
            current = current.get(key)
        return current

    return get


def _general_getter(rooted: bool, steps: list[tuple[int, Any]], many: bool) -> Getter:
    def get(node: Any, run: Run) -> Any:
        values = [run.doc if rooted else node]
        for kind, arg in steps:
            found: list[Any] = []
            for current in values:
                if kind == _EACH:
                    if type(current) is list:
                        found.extend(item for item in current if item is not None)
                    continue
                if kind == _FILTER:
                    found.extend(_matches(current, arg[0], _key(arg[1](node, run))))
                    continue
                if kind == _KEY:
                    value = current.get(arg) if type(current) is dict else None
                elif kind == _MATCH:
                    value = _first_match(current, arg[0], _key(arg[1](node, run)))
                else:
                    index = arg if kind == _AT else _as_index(arg(node, run))
                    ok = type(current) is list and index is not None and -len(current) <= index < len(current)
                    value = current[index] if ok else None
                if value is not None:
                    found.append(value)
            values = found
        return values if many else (values[0] if values else None)

    return get


def _matches(items: Any, name: str, wanted: str | None) -> list[Any]:
    if type(items) is not list or wanted is None:
        return []
    return [item for item in items if type(item) is dict and _key(item.get(name)) == wanted]


def _first_match(items: Any, name: str, wanted: str | None) -> Any:
    found = _matches(items, name, wanted)
    return found[0] if found else None


def _has_value(value: Any) -> bool:
    return value is not None and not (type(value) in (str, list, dict) and not value)


def _present(value: Any) -> bool:
    """What a condition on a path tests: a value, and not false."""
    return value is not False and _has_value(value)


def _nonzero(value: Any) -> bool:
    """A number other than zero (`"0.00"`, 0 and a missing value are zero); a non-number is an error."""
    if not _has_value(value):
        return False
    try:
        return bool(amount(value))
    except ValueError:
        raise _Fail(f"nonzero: not a number: {value!r}") from None


def _key(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return lookup_key(value)
    except ValueError:
        return None


# --- Compiling ------------------------------------------------------------------------------------


class _Fail(Exception):
    """A payload problem, raised inside the compiled closures and turned into a MappingError.

    The canonical field and the payload path are collected while the exception unwinds.
    """

    def __init__(self, message: str, source: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fields: list[str] = []
        self.sources: list[str] = [source] if source else []

    def error(self, file: str, prefix: str) -> MappingError:
        source = _join([prefix, *reversed(self.sources)])
        return MappingError(file, _join(reversed(self.fields)), source, self.message)


def _join(parts: Iterable[str]) -> str:
    out = ""
    for part in parts:
        if part:
            out = part if not out else out + part if part[0] == "[" else f"{out}.{part}"
    return out


_SOURCES = ("path", "first", "all", "const", "position")
_RULE_KEYS = frozenset({*_SOURCES, "as", "when", "default", "required"})
_PARAMS = frozenset().union(*(transform.params for transform in TRANSFORMS.values()))
_TOP_KEYS = ("name", "channel", "description", "format", "sets", "documents", "expect", "order", "refund")


def _overlay(base: Any, override: Any) -> Any:
    """A partner's override file on its base mapping: mappings merge key by key, anything else
    (a path, a rule, a list) replaces what the base had, and `null` removes it."""
    if not (isinstance(base, _Map) and isinstance(override, _Map)):
        return override
    merged = _Map(base)
    merged.line = override.line
    merged.lines = {**base.lines, **override.lines}
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _overlay(base.get(key), value)
    return merged


Step = tuple[Callable[[Any, Any, Run], Any], bool]


def _pipe(steps: list[Step], value: Any, node: Any, run: Run) -> Any:
    for fn, aggregate in steps:
        if value is None:
            return None
        if not aggregate and type(value) is list:
            items, value = value, []
            for item in items:
                out = fn(item, node, run)
                if out is not None:
                    value.append(out)
        else:
            value = fn(value, node, run)
    return value


def _scalar_chain(steps: list[Step]) -> Callable[[Any, Any, Run], Any] | None:
    """The steps as one function for a value that is not a list (None when a step is an aggregate)."""
    if not steps or any(aggregate for _, aggregate in steps):
        return None
    if len(steps) == 1:
        return steps[0][0]
    if len(steps) == 2:  # the common `as: x` plus the field's type
        first, second = steps[0][0], steps[1][0]
        return lambda value, node, run: None if (value := first(value, node, run)) is None else second(value, node, run)
    fns = [fn for fn, _ in steps]

    def chain(value: Any, node: Any, run: Run) -> Any:
        for fn in fns:
            value = fn(value, node, run)
            if value is None:
                return None
        return value

    return chain


@dataclass(frozen=True)
class _At:
    """Where a piece of a mapping file is: for load errors, issues, and errors on payloads."""

    where: str  # position in the file: order.lines.unit_price
    line: int
    field: str  # canonical field, lists as []: lines[].unit_price
    src: str  # payload path of the object in scope: line_items[]

    def key(self, spec: Any, key: Any) -> _At:
        line = _line(spec, key, self.line)
        return _At(f"{self.where}.{key}", line, _join([self.field, str(key)]), self.src)

    def at(self, spec: Any, key: Any) -> _At:
        return _At(f"{self.where}.{key}", _line(spec, key, self.line), self.field, self.src)


def _plain_rule(path: _Path | None, source: Getter, chain: list[Step], required: bool, desc: str) -> Getter:
    """The common rule (a source, transforms, the field's type) without the general rule's overhead."""
    if not chain and not required:
        return source
    key = path.key if path is not None else None
    single = _scalar_chain(chain)

    def get(node: Any, run: Run) -> Any:
        if key is not None:
            value = node.get(key) if type(node) is dict else None
        else:
            value = source(node, run)
        if value is None:
            if required:
                raise _Fail("required value is missing", desc)
            return None
        try:
            if single is not None and type(value) is not list:
                return single(value, node, run)
            return _pipe(chain, value, node, run) if chain else value
        except (ValueError, ArithmeticError) as exc:
            raise _Fail(str(exc), desc) from None

    return get


@dataclass(frozen=True)
class _Document:
    path: _Path
    is_list: bool
    when: Callable[[Any, Run], bool] | None


class _Compiler:
    def __init__(self, file: str) -> None:
        self.file = file
        self.sources: dict[str, str] = {}  # canonical field template -> payload path, for errors

    def fail(self, at: _At, message: str) -> MappingFileError:
        return MappingFileError(self.file, at.line, at.where, message)

    def path(self, text: Any, at: _At) -> _Path:
        try:
            return compile_path(text)
        except ValueError as exc:
            raise self.fail(at, str(exc)) from None

    def field(self, spec: Any, field: _Field, at: _At) -> Getter:
        if field.kind == "object" and field.model is not None:
            return self.obj(spec, field.model, at)
        if field.kind == "object_list" and field.model is not None:
            return self.lst(spec, field.model, at)
        if field.kind == "dict":
            return self.attrs(spec, at)
        return self.rule(spec, field, at)

    # A rule gives one value: a source (path, first, all, const, position), a condition, transforms,
    # a default, and the conversion to the field's type.
    def rule(self, spec: Any, field: _Field, at: _At) -> Getter:
        if isinstance(spec, str):
            spec = _Map(path=spec)
            spec.line, spec.lines = at.line, {}
        if not isinstance(spec, _Map):
            raise self.fail(at, "expected a path or a rule (a mapping with path, first, all or const)")
        at = replace(at, line=spec.line)
        for key in spec:
            if key not in _RULE_KEYS and key not in _PARAMS:
                known = ", ".join(sorted(_RULE_KEYS | _PARAMS))
                raise self.fail(at.at(spec, key), f"unknown key {key!r} (known: {known})")
        present = [key for key in _SOURCES if key in spec]
        if len(present) != 1:
            raise self.fail(at, "a rule needs exactly one of " + ", ".join(_SOURCES))
        source, desc = self.source(present[0], spec, at)
        cond = self.cond(spec["when"], at.at(spec, "when")) if "when" in spec else None
        names = self.transform_names(spec, at)
        coerce = _COERCE.get(field.kind)
        coerce_names = [coerce] if coerce and (not names or names[-1] != coerce) else []
        params = self.params(spec, [*names, *coerce_names], at)
        steps = [self.step(name, params, at) for name in names]
        coerce_steps = [self.step(name, params, at) for name in coerce_names]
        default = spec.get("default")
        required = spec.get("required", False)
        if not isinstance(required, bool):
            raise self.fail(at.at(spec, "required"), "required must be true or false")
        required = required or field.required
        self.check_choices(spec, field, names, at)
        self.sources[at.field] = _join([at.src, desc])
        if cond is None and default is None and field.kind != "str_list":
            path = self.path(spec["path"], at) if "path" in spec else None
            return _plain_rule(path, source, steps + coerce_steps, required, desc)
        as_list = field.kind == "str_list"

        def get(node: Any, run: Run) -> Any:
            try:
                value = None if cond is not None and not cond(node, run) else source(node, run)
                if value is not None and steps:
                    value = _pipe(steps, value, node, run)
                if value is None:
                    value = default
                if value is not None and coerce_steps:
                    value = _pipe(coerce_steps, value, node, run)
            except (ValueError, ArithmeticError) as exc:
                raise _Fail(str(exc), desc) from None
            if value is None:
                if required:
                    raise _Fail("required value is missing", desc)
                return None
            return [value] if as_list and type(value) is not list else value

        return get

    def source(self, kind: str, spec: _Map, at: _At) -> tuple[Getter, str]:
        value = spec[kind]
        at = at.at(spec, kind) if kind in spec.lines else at  # not for a bare `field: path`
        if kind == "path":
            path = self.path(value, at)
            return path.get, path.text
        if kind == "const":
            return (lambda node, run: value), ""
        if kind == "position":
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.fail(at, "position takes the number of the first item, e.g. 1")
            return (lambda node, run: run.position + value), ""
        if not isinstance(value, list) or not value:
            raise self.fail(at, f"{kind} takes a list of paths or rules")
        getters: list[tuple[Getter, bool]] = []
        for item in value:
            if isinstance(item, _Map):
                getters.append((self.rule(item, _ANY, replace(at, line=item.line, src="")), False))
            else:
                path = self.path(item, at)
                getters.append((path.get, path.many))
        desc = f"{kind}({', '.join(item if isinstance(item, str) else '...' for item in value)})"
        if kind == "first":

            def first(node: Any, run: Run) -> Any:
                for get, _ in getters:
                    found = get(node, run)
                    if found is not None and (found or type(found) not in (str, list, dict)):
                        return found
                return None

            return first, desc

        def collect(node: Any, run: Run) -> Any:
            values: list[Any] = []
            for get, many in getters:
                found = get(node, run)
                if many:
                    values.extend(found)
                elif found is not None:
                    values.append(found)
            return values

        return collect, desc

    def transform_names(self, spec: _Map, at: _At) -> list[str]:
        names = spec.get("as", [])
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise self.fail(at.at(spec, "as"), "as takes a transform name or a list of them")
        for name in names:
            if name not in TRANSFORMS:
                known = ", ".join(sorted(TRANSFORMS))
                raise self.fail(at.at(spec, "as"), f"unknown transform {name!r} (known: {known})")
        return list(names)

    def params(self, spec: _Map, names: list[str], at: _At) -> dict[str, Any]:
        allowed = frozenset().union(*(TRANSFORMS[name].params for name in names))
        params: dict[str, Any] = {}
        for key in spec:
            if key in _PARAMS and key not in allowed:
                takers = ", ".join(n for n, t in TRANSFORMS.items() if key in t.params)
                raise self.fail(at.at(spec, key), f"{key!r} is a parameter of {takers}, not used here")
            if key in RULE_PARAMS:
                params[key] = self.rule(spec[key], _ANY, at.at(spec, key))
            elif key in allowed:
                params[key] = spec[key]
        return params

    def step(self, name: str, params: dict[str, Any], at: _At) -> Step:
        transform = TRANSFORMS[name]
        try:
            return transform.build(params, at.field), transform.aggregate
        except ValueError as exc:
            raise self.fail(at, f"{name}: {exc}") from None

    def check_choices(self, spec: _Map, field: _Field, names: list[str], at: _At) -> None:
        if not field.choices:
            return
        values = []
        if "const" in spec and not names:
            values.append(("const", spec["const"]))
        if "default" in spec:
            values.append(("default", spec["default"]))
        if "lookup" in names and isinstance(spec.get("table"), dict):
            values.extend(("table", value) for value in spec["table"].values())
        for key, value in values:
            if str(value) not in field.choices:
                raise self.fail(at.at(spec, key), f"{value!r} is not one of {', '.join(field.choices)}")

    def document(self, spec: Any, at: _At) -> _Document:
        """Where orders are: `path` (one order), `path[]` (a list of them), optionally with a `when`
        on the payload (`{path: "items[]", when: search_criteria}`)."""
        cond = None
        if isinstance(spec, _Map):
            at = replace(at, line=spec.line)
            cond = self.cond(spec["when"], at.at(spec, "when")) if "when" in spec else None
            spec = spec["path"]
        if not isinstance(spec, str):
            raise self.fail(at, "a document path must be a text")
        is_list = spec.endswith("[]")
        path = self.path(spec[:-2] or "$" if is_list else spec, at)
        if path.many:
            raise self.fail(at, f"{spec!r}: `[]` is allowed only at the end")
        return _Document(path, is_list, cond)

    def cond(self, spec: Any, at: _At) -> Callable[[Any, Run], bool]:
        """`path` (has a value), {path, equals|in|not_in|same_as|differs_from|nonzero}, {not}, {any}, {all}."""
        if isinstance(spec, str):
            get = self.path(spec, at).get
            return lambda node, run: _present(get(node, run))
        if not isinstance(spec, _Map) or not spec:
            raise self.fail(at, "a condition is a path or a mapping")
        at = replace(at, line=spec.line)
        if "not" in spec or "any" in spec or "all" in spec:
            if len(spec) != 1:
                raise self.fail(at, "not, any and all stand alone in a condition")
            (op,) = spec
            if op == "not":
                inner = self.cond(spec["not"], at)
                return lambda node, run: not inner(node, run)
            if not isinstance(spec[op], list) or not spec[op]:
                raise self.fail(at, f"{op} takes a list of conditions")
            conds = [self.cond(item, at) for item in spec[op]]
            wanted = op == "any"

            def combined(node: Any, run: Run) -> bool:
                for cond in conds:
                    if cond(node, run) is wanted:
                        return wanted
                return not wanted

            return combined
        tests = [key for key in spec if key != "path"]
        for key in tests:
            if key not in ("equals", "in", "not_in", "same_as", "differs_from", "nonzero"):
                raise self.fail(at.at(spec, key), f"unknown condition key {key!r}")
        if "path" not in spec or len(tests) > 1:
            raise self.fail(at, "a condition has a path and at most one test")
        get = self.path(spec["path"], at).get
        if not tests:
            return lambda node, run: _present(get(node, run))
        test, arg = tests[0], spec[tests[0]]
        if test == "nonzero":
            if not isinstance(arg, bool):
                raise self.fail(at.at(spec, test), "nonzero takes true or false")
            return lambda node, run: _nonzero(get(node, run)) is arg
        if test in ("same_as", "differs_from"):
            other = self.path(arg, at.at(spec, test)).get
            same = test == "same_as"
            return lambda node, run: (_key(get(node, run)) == _key(other(node, run))) == same
        if test == "equals":
            wanted = {_key(arg)}
        elif isinstance(arg, list):
            wanted = {_key(item) for item in arg}
        else:
            raise self.fail(at.at(spec, test), f"{test} takes a list of values")
        inside = test != "not_in"
        return lambda node, run: (_key(get(node, run)) in wanted) == inside

    def obj(self, spec: Any, model: type[BaseModel], at: _At, control: tuple[str, ...] = ()) -> Getter:
        """An object: its fields, optionally `from: path` (the scope; no object when absent) and `when`."""
        if not isinstance(spec, _Map):
            raise self.fail(at, f"expected a mapping of {model.__name__} fields")
        fields = _fields(model)
        control = (*control, "when", "from")
        scope = self.path(spec["from"], at.at(spec, "from")) if "from" in spec else None
        from_text = scope.text if scope is not None else ""
        inner = replace(at, src=_join([at.src, from_text]))
        compiled: list[tuple[str, Getter, bool]] = []
        for key, value in spec.items():
            if key in control:
                continue
            if key not in fields:
                owned = key in _ENGINE_OWNED.get(model, ())
                why = "is set by the engine" if owned else f"is not a field of {model.__name__}"
                raise self.fail(at.key(spec, key), f"{why} (fields: {', '.join(fields)})")
            compiled.append((key, self.field(value, fields[key], inner.key(spec, key)), fields[key].required))
        missing = [name for name, field in fields.items() if field.required and name not in spec]
        if missing:
            raise self.fail(replace(at, line=spec.line), f"required field not mapped: {', '.join(missing)}")
        cond = self.cond(spec["when"], at.at(spec, "when")) if "when" in spec else None

        def build(node: Any, run: Run) -> dict[str, Any] | None:
            if scope is not None:
                node = scope.get(node, run)
                if node is None:
                    return None
            if cond is not None and not cond(node, run):
                return None
            out = {}
            for name, get, required in compiled:
                try:
                    value = get(node, run)
                    if value is None and required:
                        raise _Fail("required value is missing")
                except _Fail as fail:
                    fail.fields.append(name)
                    if from_text:
                        fail.sources.append(from_text)
                    raise
                if value is not None:
                    out[name] = value
            return out

        return build

    def lst(self, spec: Any, model: type[BaseModel], at: _At) -> Getter:
        """A list of objects: one or more `{each: path, ...fields}`, concatenated."""
        parts: list[tuple[_Path, Getter]] = []
        specs = spec if isinstance(spec, _Seq) else [spec]
        for index, part in enumerate(specs):
            part_at = replace(at, where=f"{at.where}[{index}]") if isinstance(spec, _Seq) else at
            if not isinstance(part, _Map) or "each" not in part:
                raise self.fail(part_at, "a list needs each: <path of the source list>")
            each = self.path(part["each"], part_at.at(part, "each"))
            item_at = replace(part_at, field=f"{at.field}[]", src=_join([at.src, f"{each.text}[]"]))
            parts.append((each, self.obj(part, model, item_at, control=("each",))))
            self.sources.setdefault(f"{at.field}[]", _join([at.src, each.text]))

        def build(node: Any, run: Run) -> list[Any]:
            out: list[Any] = []
            saved = run.position
            for each, item in parts:
                items = each.get(node, run)
                if items is None:
                    continue
                if type(items) is dict:
                    items = [items]  # `each: @` or a path to one object: a list of one item
                elif type(items) is not list:
                    raise _Fail(f"expected an array or an object, got {json_type(items)}", each.text)
                for index, value in enumerate(items):
                    run.position = len(out)
                    try:
                        built = item(value, run)
                    except _Fail as fail:
                        fail.fields.append(f"[{len(out)}]")
                        fail.sources.append(f"{each.text}[{index}]")
                        raise
                    if built is not None:
                        out.append(built)
            run.position = saved
            return out

        return build

    def attrs(self, spec: Any, at: _At) -> Getter:
        """Free-form attributes: name -> rule, or name -> nested attributes. Empty values are left out."""
        if not isinstance(spec, _Map):
            raise self.fail(at, "attributes are a mapping of name to rule")
        scope = self.path(spec["from"], at.at(spec, "from")) if "from" in spec else None
        cond = self.cond(spec["when"], at.at(spec, "when")) if "when" in spec else None
        from_text = scope.text if scope is not None else ""
        inner = replace(at, src=_join([at.src, from_text]))
        entries: list[tuple[str, Getter]] = []
        for key, value in spec.items():
            if key in ("when", "from"):
                continue
            key_at = inner.key(spec, key)
            if isinstance(value, _Map) and not any(source in value for source in _SOURCES):
                entries.append((str(key), self.attrs(value, key_at)))
            else:
                entries.append((str(key), self.rule(value, _ANY, key_at)))

        def build(node: Any, run: Run) -> dict[str, Any] | None:
            if scope is not None:
                node = scope.get(node, run)
            if node is None or (cond is not None and not cond(node, run)):
                return None
            out = {}
            for name, get in entries:
                try:
                    value = get(node, run)
                except _Fail as fail:
                    fail.fields.append(name)
                    if from_text:
                        fail.sources.append(from_text)
                    raise
                if value is not None and (value or type(value) not in (str, list, dict)):
                    out[name] = value
            return out or None

        return build


# --- Mapping --------------------------------------------------------------------------------------


class Mapping:
    """A compiled mapping file. Build it with `Mapping.load(path)`."""

    def __init__(
        self,
        *,
        name: str,
        path: Path,
        channel: str,
        source_format: str = "json",
        sets: frozenset[str] = frozenset(),
        target: str = "order",
        digest: str,
        documents: list[_Document],
        expect: list[_Path],
        currency: Getter,
        build: Getter,
        sources: dict[str, str],
    ) -> None:
        self.name = name
        self.path = path
        self.channel = channel
        self.source_format = source_format  # json, or x12: one document per transaction set in `sets`
        self.sets = sets
        self.target = target  # "order", or "refund": the payload is a refund of an order
        self.digest = digest  # sha256 of the file: which version of the mapping made an order
        self._documents = documents
        self._expect = expect
        self._currency = currency
        self._build = build
        self._sources = sources

    def __repr__(self) -> str:
        return f"Mapping({self.name!r}, {str(self.path)!r})"

    @classmethod
    def load(cls, path: Path) -> Mapping:
        path = Path(path)
        tree, digest = cls._read(path, depth=0)
        return cls._compile(tree, path, digest)

    @classmethod
    def _read(cls, path: Path, depth: int) -> tuple[Any, str]:
        """The file's tree, with the file it `extends` merged under it, and a digest of both."""
        file = str(path)
        try:
            data = path.read_bytes()
            tree = yaml.load(data.decode("utf-8-sig"), Loader=_Loader)
        except OSError as exc:
            raise MappingFileError(file, 1, "(file)", f"cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise MappingFileError(file, 1, "(file)", "not UTF-8 text") from None
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else 1
            raise MappingFileError(file, line, "(syntax)", str(exc.problem or exc.context)) from None
        except yaml.YAMLError as exc:
            raise MappingFileError(file, 1, "(syntax)", str(exc)) from None
        digest = hashlib.sha256(data).hexdigest()
        if not isinstance(tree, _Map) or "extends" not in tree:
            return tree, digest
        base = tree["extends"]
        line = _line(tree, "extends", 1)
        if not isinstance(base, str) or not base:
            raise MappingFileError(file, line, "extends", "expected a built-in mapping name or a mapping file")
        if depth >= 4:
            raise MappingFileError(file, line, "extends", "mappings extend each other more than 4 deep")
        base_path = path.parent / base if base.endswith((".yaml", ".yml")) else BUILTIN_DIR / f"{base}.yaml"
        if not base_path.is_file():
            raise MappingFileError(file, line, "extends", f"no mapping {base!r} (looked for {base_path})")
        base_tree, base_digest = cls._read(base_path, depth + 1)
        merged = _overlay(base_tree, tree)
        del merged["extends"]
        return merged, hashlib.sha256((base_digest + digest).encode()).hexdigest()

    @staticmethod
    def _document_specs(tree: _Map, compiler: _Compiler) -> list[Any]:
        specs = tree.get("documents") or ["$"]
        valid = isinstance(specs, list) and all(
            isinstance(spec, str) or (isinstance(spec, _Map) and "path" in spec and set(spec) <= {"path", "when"})
            for spec in specs
        )
        if not valid:
            at = _At("documents", _line(tree, "documents", 1), "", "")
            raise compiler.fail(at, "expected a list of paths or {path: ..., when: <condition>}")
        return list(specs)

    @classmethod
    def _compile(cls, tree: Any, path: Path, digest: str) -> Mapping:
        compiler = _Compiler(str(path))

        def top(key: str) -> _At:
            return _At(key, _line(tree, key, 1), "", "")

        if not isinstance(tree, _Map):
            raise compiler.fail(top("(file)"), "expected a YAML mapping (channel, documents, order)")
        for key in tree:
            if key not in _TOP_KEYS:
                raise compiler.fail(top(str(key)), f"unknown key (known: {', '.join(_TOP_KEYS)})")
        for key in ("name", "channel", "description"):
            if key in tree and not (isinstance(tree[key], str) and tree[key]):
                raise compiler.fail(top(key), "expected a non-empty text")
        if "channel" not in tree:
            raise compiler.fail(top("channel"), "required key is missing")
        targets = [key for key in ("order", "refund") if key in tree]
        if len(targets) != 1:
            raise compiler.fail(top("order"), "a mapping file maps either an order (order:) or a refund (refund:)")
        target = targets[0]
        expected = tree.get("expect", [])
        if not isinstance(expected, list) or not all(isinstance(text, str) for text in expected):
            raise compiler.fail(top("expect"), "expected a list of paths")
        source_format = tree.get("format", "json")
        if source_format not in ("json", "x12"):
            raise compiler.fail(top("format"), "expected json or x12")
        sets = tree.get("sets", [])
        if not isinstance(sets, list) or not all(isinstance(s, str) and s.isdigit() for s in sets):
            raise compiler.fail(top("sets"), 'expected a list of transaction set ids, such as ["850"]')
        if source_format == "x12" and not sets:
            raise compiler.fail(top("sets"), "an x12 mapping names the transaction sets it maps")
        documents = [compiler.document(spec, top("documents")) for spec in cls._document_specs(tree, compiler)]
        expect = [compiler.path(text, top("expect")) for text in expected]
        model = Order if target == "order" else RefundOf
        spec, at = tree[target], top(target)
        build = compiler.obj(spec, model, at)
        currency = compiler.rule(spec["currency"], _fields(model)["currency"], at.key(spec, "currency"))
        return cls(
            name=tree.get("name", path.stem),
            path=path,
            channel=tree["channel"],
            source_format=source_format,
            sets=frozenset(sets),
            target=target,
            digest=digest,
            documents=documents,
            expect=expect,
            currency=currency,
            build=build,
            sources=compiler.sources,
        )

    def apply(self, document: Any, ctx: MappingContext) -> list[Order]:
        """The canonical orders in one parsed payload (several for a list response)."""
        if self.target != "order":
            raise self._error("document", "", f"mapping {self.name!r} maps refunds, not orders")
        return [self._map(doc, prefix, ctx) for prefix, doc in self._find_documents(document)]

    def apply_refunds(self, document: Any, ctx: MappingContext) -> list[RefundOf]:
        """The refunds in one parsed payload; `order_external_id` names the order each belongs to."""
        if self.target != "refund":
            raise self._error("document", "", f"mapping {self.name!r} maps orders, not refunds")
        refunds = []
        for prefix, doc in self._find_documents(document):
            data, _ = self._build_document(doc, prefix)
            try:
                refunds.append(RefundOf.model_validate(data))
            except ValidationError as exc:
                raise self._invalid(exc, prefix) from None
        return refunds

    def _error(self, field: str, source: str, message: str) -> MappingError:
        return MappingError(str(self.path), field, source, message)

    def _find_documents(self, payload: Any) -> list[tuple[str, Any]]:
        run = Run(payload)
        for document in self._documents:
            path, is_list = document.path, document.is_list
            if document.when is not None and not document.when(payload, run):
                continue
            found = path.get(payload, run)
            if found is None or (is_list and path.text == "$" and type(found) is not list):
                continue  # `$[]` is the payload when it is an array
            base = path.text.removeprefix("$").removeprefix(".")
            if is_list:
                if type(found) is not list:
                    raise self._error("document", base, f"expected an array of orders, got {json_type(found)}")
                docs = [(f"{base}[{index}]", doc) for index, doc in enumerate(found)]
            else:
                docs = [(base, found)]
            for prefix, doc in docs:
                self._check_document(prefix, doc)
            return docs
        looked = ", ".join(d.path.text + ("[]" if d.is_list else "") for d in self._documents)
        raise self._error("document", "", f"no order in the payload (looked for {looked})")

    def _check_document(self, prefix: str, doc: Any) -> None:
        if type(doc) is not dict:
            raise self._error("document", prefix, f"expected an order object, got {json_type(doc)}")
        run = Run(doc)
        missing = [path.text for path in self._expect if not _has_value(path.get(doc, run))]
        if missing:
            keys = ", ".join(list(doc)[:8]) or "none"
            raise self._error(
                "document",
                prefix,
                f"not an order for mapping {self.name!r}: missing {', '.join(missing)} (its keys: {keys})",
            )

    def _build_document(self, doc: dict[str, Any], prefix: str) -> tuple[dict[str, Any], Run]:
        run = Run(doc)
        try:
            currency = self._currency(doc, run).strip().upper()
            if len(currency) != 3 or not currency.isalpha():
                fail = _Fail(f"not an ISO 4217 currency code: {currency!r}", self._sources["currency"])
                fail.fields.append("currency")
                raise fail
            run.currency = currency
            data = self._build(doc, run)
        except _Fail as fail:
            raise fail.error(str(self.path), prefix) from None
        assert data is not None  # the top object has neither `when` nor `from`
        data["currency"] = currency
        return data, run

    def _map(self, doc: dict[str, Any], prefix: str, ctx: MappingContext) -> Order:
        data, run = self._build_document(doc, prefix)
        source = data["source"]
        data["id"] = f"{ctx.account}:{source['external_id']}"
        data["source"] = {
            **source,
            "channel": ctx.channel,
            "connector": ctx.connector,
            "account": ctx.account,
            "received_at": ctx.received_at,
            "raw_ref": ctx.raw_ref,
        }
        data["issues"] = run.issues
        try:
            order = Order.model_validate(data)
        except ValidationError as exc:
            raise self._invalid(exc, prefix) from None
        order.issues.extend(check_totals(order))
        return order

    def _invalid(self, exc: ValidationError, prefix: str) -> MappingError:
        first = exc.errors()[0]
        loc = [str(part) if isinstance(part, str) else f"[{part}]" for part in first["loc"]]
        template = [part if part[0] != "[" else "[]" for part in loc]
        source = ""
        for end in range(len(template), 0, -1):
            source = self._sources.get(_join(template[:end]), "")
            if source:
                break
        more = exc.error_count() - 1
        message = first["msg"] + (f" (and {more} more)" if more else "")
        return self._error(_join(loc), _join([prefix, source]), message)


# --- Entry points ---------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes | str) -> Any:
    """JSON with every number as int or Decimal, never float. A UTF-8 BOM is tolerated."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise MappingError("", "", f"byte {exc.start}", "payload is not UTF-8") from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise MappingError("", "", where, f"invalid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise MappingError("", "", "", f"invalid JSON: {exc}") from None


def map_payload(raw: bytes, mapping: Mapping, ctx: MappingContext) -> list[Order]:
    if mapping.source_format == "x12":
        from orderhub.mapping.x12 import map_interchange

        return map_interchange(raw, mapping, ctx).orders
    try:
        document = parse_json(raw)
    except MappingError as exc:
        raise exc.in_file(str(mapping.path)) from None
    return mapping.apply(document, ctx)


_KIND = re.compile(r"[a-z0-9][a-z0-9_-]*")


@functools.cache
def builtin_mapping(kind: str) -> Mapping:
    """The mapping shipped with orderhub for a source kind (`mappings/{kind}.yaml`)."""
    path = BUILTIN_DIR / f"{kind}.yaml"
    if not _KIND.fullmatch(kind) or not path.is_file():
        available = ", ".join(sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))) or "none"
        raise UnknownMappingError(f"no built-in mapping {kind!r} (available: {available})")
    return Mapping.load(path)
