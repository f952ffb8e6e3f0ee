"""Reading one ISA header: its elements and the delimiters it declares, whatever its width.

The ISA is meant to be 106 bytes with the delimiters at fixed offsets, but real files pad it short or
long (no-break spaces), wrap it across lines or leave ISA16 out. So the header is read by counting
element separators (ISA has 16 elements) and the terminator is whatever follows ISA16 up to the next
segment tag, with line breaks after it treated as whitespace between segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orderhub.x12._errors import IsaError
from orderhub.x12._findings import Finding, FindingKind
from orderhub.x12._segments import Delimiters, Segment

WHITESPACE = " \t\r\n"
ISA_ELEMENTS = 16
MAX_ISA_LENGTH = 1024  # a fixed-width ISA is 106 bytes; padding and wrapping stay well below this
TERMINATOR_WINDOW = 256  # how far past ISA16 the next segment tag is looked for
MAX_TERMINATOR_LENGTH = 4  # a 3-byte UTF-8 character read as latin-1 is the longest seen
LOOKAHEAD = MAX_ISA_LENGTH + TERMINATOR_WINDOW * 5  # room for the ISA16 check on the next segments

_NON_WHITESPACE_RUN = re.compile(r"[^ \t\r\n]+")
_TAG_CACHE: dict[str, re.Pattern[str]] = {}


def _next_tag(separator: str) -> re.Pattern[str]:
    pattern = _TAG_CACHE.get(separator)
    if pattern is None:
        pattern = re.compile(r"[A-Z][A-Z0-9]{1,2}" + re.escape(separator))
        _TAG_CACHE[separator] = pattern
    return pattern


@dataclass(slots=True)
class IsaHeader:
    segment: Segment
    delimiters: Delimiters
    end: int  # index just past the terminator
    suffix: str  # line break seen right after the terminator (kept with a space terminator)
    findings: list[Finding]


def _is_delimiter(char: str) -> bool:
    return len(char) == 1 and not char.isalnum() and char not in WHITESPACE


def _repetition(elements: list[str]) -> str | None:
    version, isa11 = elements[11].strip(), elements[10]
    if version.isdigit() and int(version) >= 402 and len(isa11) == 1 and not isa11.isalnum() and isa11 != " ":
        return isa11
    return None


def _ends_all(text: str, start: int, terminator: str, char: str, sample: int = 4) -> bool:
    """Whether the next `sample` segments after `start` (cut on `terminator`) all end with `char`."""
    if not _is_delimiter(char):
        return False
    end = start + TERMINATOR_WINDOW * sample
    pieces = text[start:end].split(terminator)
    lines = (pieces if end >= len(text) else pieces[:-1])[:sample]
    lines = [line.strip(WHITESPACE) for line in lines]
    lines = [line for line in lines if line]
    return bool(lines) and all(line.endswith(char) for line in lines)


def _terminator(text: str, start: int, separator: str) -> tuple[str, int]:
    """The terminator that begins at `start` and where the next segment's tag starts (-1: none seen)."""
    window_end = min(len(text), start + TERMINATOR_WINDOW)
    match = _next_tag(separator).search(text, start + 1, window_end)
    if match is None:
        return text[start : start + 1], -1
    gap = text[start : match.start()]
    run = _NON_WHITESPACE_RUN.match(gap)
    terminator = run.group() if run else ""
    # "~~" is a terminator followed by an empty segment, not a two-character terminator.
    if not terminator or len(terminator) > MAX_TERMINATOR_LENGTH or terminator.count(terminator[0]) > 1:
        terminator = gap[:1]
    return terminator, match.start()


def _declared_end(text: str, positions: list[int], separator: str, limit: int) -> tuple[int, str, bool]:
    """Where the ISA's data ends, its terminator, and whether ISA16 is missing, read from the text."""
    isa15_at = positions[ISA_ELEMENTS - 2] + 1
    slot = text[isa15_at : positions[-1]] if len(positions) == ISA_ELEMENTS else text[isa15_at:limit]
    if len(slot.strip(WHITESPACE)) != 1:
        # No 16th separator right after ISA15: ISA16 is missing and ISA15 is followed by the terminator.
        data_end = isa15_at + len(slot) - len(slot.lstrip(WHITESPACE)) + 1
        return data_end, _terminator(text, data_end, separator)[0], True
    data_end = positions[-1] + 1
    while text[data_end : data_end + 1] in ("\r", "\n"):  # a line break before ISA16: wrapped
        data_end += 1
    data_end += 1
    if data_end > len(text):
        return data_end, "", False
    terminator, next_tag = _terminator(text, data_end, separator)
    component = text[data_end - 1]
    if terminator.strip(WHITESPACE) == "" and next_tag >= 0 and _ends_all(text, next_tag, terminator, component):
        # ISA16 left out and the real terminator read as ISA16: the next segments end with it too.
        return data_end - 1, component, True
    return data_end, terminator, False


def read_isa(
    text: str,
    start: int,
    *,
    trivia: str,
    offset: int,
    line: int,
    ordinal: int,
    override: Delimiters | None = None,
) -> IsaHeader:
    """Read the ISA at `text[start:]` (`text` holds at least `LOOKAHEAD` characters or the rest of the file).

    `offset`, `line` and `ordinal` are the file position of `start`; `override` wins over the ISA.
    """

    def fail(message: str, *, element: int | None = None, code: str | None = None) -> IsaError:
        return IsaError(
            message,
            offset=offset,
            line=line,
            segment_ordinal=ordinal,
            segment_tag="ISA",
            element=element,
            code=code,
            code_source="TA1" if code else None,
        )

    separator = override.element if override else text[start + 3 : start + 4]
    if not _is_delimiter(separator):
        raise fail(
            f"ISA element separator (the character after 'ISA') must not be a letter, digit or space, "
            f"found {separator!r}",
            code="026",
        )
    limit = min(len(text), start + MAX_ISA_LENGTH)
    positions = [start + 3]
    while len(positions) < ISA_ELEMENTS:
        found = text.find(separator, positions[-1] + 1, limit)
        if found < 0:
            break
        positions.append(found)
    if len(positions) < ISA_ELEMENTS - 1:
        raise fail(
            f"ISA must have 16 elements, found {len(positions)} before the end of the header",
            element=len(positions) + 1,
            code="024",
        )
    if override is not None:
        data_end = text.find(override.segment, positions[ISA_ELEMENTS - 2] + 1, limit)
        if data_end < 0:
            raise fail(f"no segment terminator {override.segment!r} after ISA15", element=15)
        terminator, component_missing = override.segment, not override.component
    else:
        data_end, terminator, component_missing = _declared_end(text, positions, separator, limit)
        if not terminator or data_end > len(text):
            raise fail("the file ends inside the ISA: ISA16 or the segment terminator is missing", element=16)
    suffix_start = data_end + len(terminator)
    raw = text[start:data_end]
    elements = raw.split(separator)[1:]
    if component_missing and len(elements) == ISA_ELEMENTS - 1:
        elements.append("")
    if len(elements) != ISA_ELEMENTS:
        raise fail(f"ISA must have 16 elements, found {len(elements)}", element=min(len(elements), 16), code="024")
    repaired = [value.replace("\r", "").replace("\n", "") for value in elements]
    keep_raw = raw if repaired != elements or separator.join(["ISA", *elements]) != raw else None
    findings: list[Finding] = []
    if repaired != elements:
        wrapped = next(i for i, (a, b) in enumerate(zip(repaired, elements, strict=True), 1) if a != b)
        findings.append(
            Finding(
                kind=FindingKind.ISA_WRAPPED,
                message=f"ISA is wrapped across lines: the line break inside ISA{wrapped:02d} was removed",
                segment_tag="ISA",
                segment_ordinal=ordinal,
                line=line,
                offset=offset,
                element=wrapped,
            )
        )
    if component_missing and override is None:
        findings.append(
            Finding(
                kind=FindingKind.ISA_COMPONENT_MISSING,
                message=f"ISA must have 16 elements, found 15: ISA16 (component separator) is missing; "
                f"{terminator!r} is the segment terminator",
                segment_tag="ISA",
                segment_ordinal=ordinal,
                line=line,
                offset=offset,
                element=16,
                code="027",
                code_source="TA1",
            )
        )
    component = "" if component_missing else repaired[15]
    if override is not None:
        delimiters = override
    else:
        if component and (component == separator or component in terminator):
            raise fail(
                f"ISA16 component separator {component!r} clashes with another delimiter", element=16, code="027"
            )
        if separator in terminator:
            raise fail(f"segment terminator {terminator!r} contains the element separator", element=16, code="026")
        delimiters = Delimiters(separator, component, terminator, _repetition(repaired))
    after = text[suffix_start : suffix_start + 2]
    suffix = "\r\n" if after == "\r\n" else after[:1] if after[:1] in ("\r", "\n") else ""
    segment = Segment("ISA", repaired, ordinal, line, offset, trivia, terminator, keep_raw)
    return IsaHeader(segment, delimiters, suffix_start, suffix, findings)
