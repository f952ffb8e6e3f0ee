"""Named transforms of mapping files.

A transform is built once per rule from the rule's parameters and then called for every value:
`fn(value, node, run)`, where `node` is the JSON object in scope and `run` the state of the
document being mapped. Transforms never see None (a missing value skips the rest of the pipeline)
and signal bad data with ValueError, which the engine reports as a MappingError.
"""

from __future__ import annotations

import email.utils
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, Inexact, InvalidOperation, localcontext
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orderhub.model.money import decimal_str, to_decimal


class Run:
    """The state of one document while it is mapped."""

    __slots__ = ("currency", "doc", "issues", "position")

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.currency: str | None = None
        self.issues: list[dict[str, str]] = []
        self.position = 0  # index of the list item being built, for `position`

    def issue(self, code: str, message: str, field: str) -> None:
        self.issues.append({"code": code, "message": message, "field": field})


Getter = Callable[[Any, Run], Any]
Fn = Callable[[Any, Any, Run], Any]


@dataclass(frozen=True)
class Transform:
    build: Callable[[dict[str, Any], str], Fn]  # (params, canonical field) -> fn
    params: frozenset[str] = field(default_factory=frozenset)
    aggregate: bool = False  # takes a whole list; other transforms apply to each element of a list


def json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


def to_string(value: Any) -> str:
    if type(value) is str or type(value) is int:
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_str(value)
    raise ValueError(f"expected a text value, got {json_type(value)}")


def lookup_key(value: Any) -> str:
    """How values are compared with lookup tables and conditions: JSON 1, "1" and YAML 1 are equal."""
    return to_string(value)


def _text_param(params: dict[str, Any], name: str, default: str) -> str:
    value = params.get(name, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty text")
    return value


def _choice_param(params: dict[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(name, default)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return str(value)


def _plain(fn: Fn) -> Callable[[dict[str, Any], str], Fn]:
    """A transform without parameters."""
    return lambda params, field: fn


def amount(value: Any) -> Decimal:
    """A finite Decimal from a JSON amount (text, int or Decimal)."""
    try:
        number = value if type(value) is Decimal else Decimal(value) if type(value) is str else to_decimal(value)
    except InvalidOperation:
        number = to_decimal(value)  # raises the readable error
    if not number.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return number


def _string(params: dict[str, Any], field: str) -> Fn:
    return lambda value, node, run: value if type(value) is str else to_string(value)


def _decimal(params: dict[str, Any], field: str) -> Fn:
    def fn(value: Any, node: Any, run: Run) -> Decimal | None:
        if isinstance(value, str) and not value.strip():
            return None
        return amount(value)

    return fn


def _non_empty(value: Any, node: Any = None, run: Run | None = None) -> Any:
    if isinstance(value, str):
        return value if value and not value.isspace() else None
    if isinstance(value, dict | list) and not value:
        return None
    return value


def _bool(value: Any, node: Any = None, run: Run | None = None) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "y", "1"):
            return True
        if text in ("false", "no", "n", "0"):
            return False
        if not text:
            return None
    raise ValueError(f"not a boolean: {value!r}")


_ZERO = Decimal(0)


def _signed(op: Callable[[Decimal], Decimal]) -> Fn:
    def fn(value: Any, node: Any, run: Run) -> Any:
        if isinstance(value, dict) and "amount" in value:
            return {**value, "amount": op(value["amount"])}
        return op(to_decimal(value))

    return fn


def _money(params: dict[str, Any], field: str) -> Fn:
    currency: Getter | None = params.get("currency")

    def fn(value: Any, node: Any, run: Run) -> Any:
        if type(value) is dict and "amount" in value:
            return value
        code = currency(node, run) if currency is not None else run.currency
        if not code:
            raise ValueError("no currency for the amount")
        return {"amount": amount(value), "currency": code}

    return fn


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_epoch(value: Any) -> datetime:
    seconds = to_decimal(value)
    return _EPOCH + timedelta(seconds=int(seconds), microseconds=int((seconds % 1) * 1_000_000))


def _from_iso(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date-time text, got {json_type(value)}")
    return datetime.fromisoformat(value.strip())


def _from_rfc2822(value: Any) -> datetime:
    try:
        return email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        raise ValueError(f"not an RFC 2822 date-time: {value!r}") from None


_DATETIME_FORMATS: dict[str, Callable[[Any], datetime]] = {
    "iso": _from_iso,
    "epoch": _from_epoch,
    "epoch_ms": lambda value: _from_epoch(to_decimal(value) / 1000),
    "rfc2822": _from_rfc2822,
}


def _parser(params: dict[str, Any]) -> Callable[[Any], datetime]:
    fmt = _text_param(params, "format", "iso")
    if fmt in _DATETIME_FORMATS:
        return _DATETIME_FORMATS[fmt]
    if "%" not in fmt:
        raise ValueError(f"format must be iso, epoch, epoch_ms, rfc2822 or a strptime pattern, not {fmt!r}")
    return lambda value: datetime.strptime(to_string(value).strip(), fmt)


def _datetime(params: dict[str, Any], field: str) -> Fn:
    parse = _parser(params)
    tz = params.get("tz")
    try:
        zone = ZoneInfo(tz) if isinstance(tz, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}") from None
    if tz is not None and zone is None:
        raise ValueError("tz must be a time zone name such as UTC or America/Toronto")

    def fn(value: Any, node: Any, run: Run) -> datetime:
        moment = value if isinstance(value, datetime) else parse(value)
        if moment.tzinfo is None:
            if zone is None:
                raise ValueError(f"date-time {value!r} has no UTC offset and the mapping sets no tz")
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)

    return fn


def _date(params: dict[str, Any], field: str) -> Fn:
    fmt = params.get("format", "iso")
    if fmt == "iso":

        def parse(value: Any) -> date:
            text = to_string(value).strip()
            return date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text).date()

    else:
        parse_datetime = _parser(params)

        def parse(value: Any) -> date:
            return parse_datetime(value).date()

    def fn(value: Any, node: Any, run: Run) -> date:
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else parse(value)

    return fn


# Country names as channels write them; two-letter codes pass through. Extend as channels need it.
COUNTRY_NAMES: dict[str, str] = {
    name.casefold(): code
    for code, names in {
        "US": ["United States", "United States of America", "USA", "U.S.A.", "U.S."],
        "CA": ["Canada", "CAN"],
        "MX": ["Mexico", "México", "MEX"],
        "BR": ["Brazil", "Brasil", "BRA"],
        "AR": ["Argentina", "ARG"],
        "CL": ["Chile", "CHL"],
        "CO": ["Colombia", "COL"],
        "GB": ["United Kingdom", "Great Britain", "UK", "GBR", "England", "Scotland", "Wales"],
        "IE": ["Ireland", "IRL"],
        "FR": ["France", "FRA"],
        "DE": ["Germany", "Deutschland", "DEU"],
        "NL": ["Netherlands", "The Netherlands", "Holland", "NLD"],
        "BE": ["Belgium", "BEL"],
        "LU": ["Luxembourg", "LUX"],
        "CH": ["Switzerland", "CHE"],
        "AT": ["Austria", "AUT"],
        "IT": ["Italy", "Italia", "ITA"],
        "ES": ["Spain", "España", "ESP"],
        "PT": ["Portugal", "PRT"],
        "SE": ["Sweden", "SWE"],
        "NO": ["Norway", "NOR"],
        "DK": ["Denmark", "DNK"],
        "FI": ["Finland", "FIN"],
        "PL": ["Poland", "POL"],
        "CZ": ["Czech Republic", "Czechia", "CZE"],
        "GR": ["Greece", "GRC"],
        "TR": ["Turkey", "Türkiye", "TUR"],
        "IL": ["Israel", "ISR"],
        "AE": ["United Arab Emirates", "ARE"],
        "SA": ["Saudi Arabia", "SAU"],
        "IN": ["India", "IND"],
        "CN": ["China", "CHN"],
        "HK": ["Hong Kong", "HKG"],
        "TW": ["Taiwan", "TWN"],
        "JP": ["Japan", "JPN"],
        "KR": ["South Korea", "Korea, Republic of", "KOR"],
        "SG": ["Singapore", "SGP"],
        "AU": ["Australia", "AUS"],
        "NZ": ["New Zealand", "NZL"],
        "ZA": ["South Africa", "ZAF"],
    }.items()
    for name in names
}


def _country(params: dict[str, Any], field: str) -> Fn:
    on_unknown = _choice_param(params, "on_unknown", ("issue", "error", "null"), "issue")

    def fn(value: Any, node: Any, run: Run) -> str | None:
        text = to_string(value).strip()
        if len(text) == 2 and text.isalpha():
            return text.upper()
        code = COUNTRY_NAMES.get(text.casefold())
        if code is not None or not text:
            return code
        message = f"unknown country {text!r}"
        if on_unknown == "error":
            raise ValueError(message)
        if on_unknown == "issue":
            run.issue("unknown_country", message, field)
        return None

    return fn


def _lookup(params: dict[str, Any], field: str) -> Fn:
    raw = params.get("table")
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError("table must be a non-empty mapping of source value to canonical value")
    table = {lookup_key(key): value for key, value in raw.items()}
    on_unknown = _choice_param(params, "on_unknown", ("error", "issue", "keep", "null"), "error")

    def fn(value: Any, node: Any, run: Run) -> Any:
        key = lookup_key(value)
        if key in table:
            return table[key]
        if on_unknown == "keep":
            return value
        message = f"{key!r} has no entry in the lookup table"
        if on_unknown == "error":
            raise ValueError(message)
        if on_unknown == "issue":
            run.issue("unmapped_value", message, field)
        return None

    return fn


def _join(params: dict[str, Any], field: str) -> Fn:
    sep = params.get("sep", " ")
    if not isinstance(sep, str):
        raise ValueError("sep must be a text")

    def fn(value: Any, node: Any, run: Run) -> str | None:
        if not isinstance(value, list):
            return to_string(value)
        parts = [text for text in map(to_string, value) if text.strip()]
        return sep.join(parts) if parts else None

    return fn


def _split(params: dict[str, Any], field: str) -> Fn:
    sep = _text_param(params, "sep", ",")

    def fn(value: Any, node: Any, run: Run) -> list[str]:
        return [part for part in (p.strip() for p in to_string(value).split(sep)) if part]

    return fn


def _sum(value: Any, node: Any = None, run: Run | None = None) -> Decimal:
    if not isinstance(value, list):
        return to_decimal(value)
    return sum((to_decimal(item) for item in value), _ZERO)


def _operand(params: dict[str, Any], name: str) -> Getter:
    getter: Getter | None = params.get(name)
    if getter is None:
        raise ValueError(f"needs {name}: <path or rule> (the other operand)")
    return getter


def _arithmetic(
    op: Callable[[Decimal, Decimal], Decimal], name: str, keep_scale: bool
) -> Callable[[dict[str, Any], str], Fn]:
    """`value op other`, `other` a rule read from the object in scope; a missing operand gives no value.

    With `keep_scale` the result has at least the value's scale (12.0000 / 1.0000000000 -> 12.0000)
    and is rounded half up to it when it needs more decimals (12.00 x 1.0825 -> 12.99, 10.00 / 3 ->
    3.33): money stays in its source's scale. An exact quotient keeps its extra digits
    (7.5 / 100 = 0.075); a difference is always exact.
    """

    def build(params: dict[str, Any], field: str) -> Fn:
        other = _operand(params, name)

        def fn(value: Any, node: Any, run: Run) -> Decimal | None:
            right = other(node, run)
            if right is None:
                return None
            left = amount(value)
            with localcontext() as ctx:
                ctx.traps[Inexact] = False
                ctx.clear_flags()
                result = op(left, amount(right))
                inexact = bool(ctx.flags[Inexact])
            exponent, result_exponent = left.as_tuple().exponent, result.as_tuple().exponent
            if not keep_scale or not isinstance(exponent, int) or not isinstance(result_exponent, int):
                return result
            if result_exponent > exponent or (result_exponent < exponent and (inexact or op is _mul)):
                return result.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
            return result

        return fn

    return build


def _mul(left: Decimal, right: Decimal) -> Decimal:
    return left * right


def _div(left: Decimal, right: Decimal) -> Decimal:
    if not right:
        raise ValueError(f"cannot divide {decimal_str(left)} by zero")
    return left / right


TRANSFORMS: dict[str, Transform] = {
    "string": Transform(_string),
    "decimal": Transform(_decimal),
    "money": Transform(_money, frozenset({"currency"})),
    "datetime": Transform(_datetime, frozenset({"format", "tz"})),
    "date": Transform(_date, frozenset({"format"})),
    "bool": Transform(_plain(_bool)),
    "country": Transform(_country, frozenset({"on_unknown"})),
    "lookup": Transform(_lookup, frozenset({"table", "on_unknown"})),
    "join": Transform(_join, frozenset({"sep"}), aggregate=True),
    "split": Transform(_split, frozenset({"sep"})),
    "sum": Transform(_plain(_sum), aggregate=True),
    "non_empty": Transform(_plain(_non_empty)),
    "trim": Transform(_plain(lambda value, node, run: to_string(value).strip())),
    "upper": Transform(_plain(lambda value, node, run: to_string(value).upper())),
    "lower": Transform(_plain(lambda value, node, run: to_string(value).lower())),
    # WooCommerce and other WordPress sources send names with HTML entities (`&ndash;`, `&amp;`).
    "unescape_html": Transform(_plain(lambda value, node, run: html.unescape(to_string(value)))),
    "negate": Transform(_plain(_signed(lambda amount: _ZERO - amount))),
    "abs": Transform(_plain(_signed(abs))),
    "multiply": Transform(_arithmetic(_mul, "by", keep_scale=True), frozenset({"by"})),
    "divide": Transform(_arithmetic(_div, "by", keep_scale=True), frozenset({"by"})),
    "subtract": Transform(_arithmetic(Decimal.__sub__, "minus", keep_scale=False), frozenset({"minus"})),
}

# Parameters whose value is itself a rule (a path, `first`, `const`...), compiled by the engine.
RULE_PARAMS = frozenset({"currency", "by", "minus"})
