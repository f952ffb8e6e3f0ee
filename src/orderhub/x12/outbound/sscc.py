"""GS1 SSCC-18 serial shipping container codes: the 856 MAN*GM value of each carton or pallet."""

from __future__ import annotations


def gs1_check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of `digits` (the code without its check digit).

    From the rightmost digit leftwards, weights alternate 3, 1, 3, ...; the check digit brings the
    weighted sum up to the next multiple of ten.
    """
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f"a GS1 code is made of digits, got {digits!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def sscc18(extension_digit: int | str, company_prefix: str, serial: int | str) -> str:
    """The 18-digit SSCC: extension digit, GS1 company prefix, serial reference, check digit.

    The serial is zero-padded to fill the 16 digits the prefix leaves (a 7-digit prefix leaves a
    9-digit serial reference).
    """
    extension = str(extension_digit)
    if len(extension) != 1 or not extension.isdigit():
        raise ValueError(f"the extension digit is one digit 0-9, got {extension_digit!r}")
    if not company_prefix.isdigit() or not 6 <= len(company_prefix) <= 12:
        raise ValueError(f"a GS1 company prefix is 6 to 12 digits, got {company_prefix!r}")
    width = 16 - len(company_prefix)
    serial_text = str(serial)
    if not serial_text.isdigit() or len(serial_text) > width:
        raise ValueError(f"with a {len(company_prefix)}-digit prefix the serial is at most {width} digits")
    body = extension + company_prefix + serial_text.zfill(width)
    return body + gs1_check_digit(body)


def is_valid_sscc(value: str) -> bool:
    """18 digits whose last one is the GS1 check digit of the other 17."""
    return len(value) == 18 and value.isdigit() and value.isascii() and gs1_check_digit(value[:17]) == value[17]


def validate_sscc(value: str) -> str:
    """`value` when it is a valid SSCC-18, else ValueError saying what is wrong."""
    if len(value) != 18 or not value.isdigit() or not value.isascii():
        raise ValueError(f"an SSCC is 18 digits, got {value!r}")
    expected = gs1_check_digit(value[:17])
    if value[17] != expected:
        raise ValueError(f"SSCC {value} has check digit {value[17]}, expected {expected}")
    return value
