"""Money and quantities: Decimal amounts that keep the source's scale, serialized as plain strings."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, field_validator


def to_decimal(value: Any) -> Decimal:
    """Turn a source value into a Decimal without ever passing through a float.

    JSON numbers must be parsed as Decimal upstream (or arrive as int/str); a float here is
    converted through its shortest repr, which is what the source wrote.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    raise ValueError(f"not a decimal number: {value!r}")


def decimal_str(value: Decimal) -> str:
    """Plain decimal notation, never an exponent (`Decimal('1E+2')` -> `'100'`)."""
    text = format(value, "f")
    return "0" if text == "-0" else text


Dec = Annotated[
    Decimal,
    BeforeValidator(to_decimal),
    PlainSerializer(decimal_str, return_type=str, when_used="json"),
]


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Dec
    currency: str

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"not an ISO 4217 currency code: {value!r}")
        return code


def money(amount: Any, currency: str) -> Money:
    return Money(amount=to_decimal(amount), currency=currency)
