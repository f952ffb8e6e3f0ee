"""Typed errors of the X12 layer: every one says what was wrong and where.

An `X12Error` is raised when a file cannot be read at all (no usable ISA, no segment terminator) or
its envelopes do not nest (a GS outside an ISA, a missing IEA). Problems a reader can live with
(wrong counts, mismatched control numbers) are `Finding`s instead, see `_findings.py`.
"""

from __future__ import annotations


class X12Error(Exception):
    """Base of every error the X12 layer raises.

    `code` is the X12 code where one exists, qualified by `code_source` ("TA1" for TA105 interchange
    note codes, "AK9" for AK905 group codes, "AK5" for AK502/IK502 set codes).
    """

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        line: int | None = None,
        segment_ordinal: int | None = None,
        segment_tag: str | None = None,
        element: int | None = None,
        code: str | None = None,
        code_source: str | None = None,
    ) -> None:
        self.message = message
        self.offset = offset
        self.line = line
        self.segment_ordinal = segment_ordinal
        self.segment_tag = segment_tag
        self.element = element
        self.code = code
        self.code_source = code_source
        super().__init__(self._describe())

    def where(self) -> str:
        """The position as words: "line 3, segment 5 (GS), element 8, byte 120"."""
        parts: list[str] = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.segment_ordinal is not None:
            tag = f" ({self.segment_tag})" if self.segment_tag else ""
            parts.append(f"segment {self.segment_ordinal}{tag}")
        elif self.segment_tag:
            parts.append(f"segment {self.segment_tag}")
        if self.element is not None:
            parts.append(f"element {self.element}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        return ", ".join(parts)

    def _describe(self) -> str:
        where = self.where()
        code = f" [{self.code_source} {self.code}]" if self.code and self.code_source else ""
        return f"{self.message}{code} at {where}" if where else f"{self.message}{code}"


class TokenizeError(X12Error):
    """The bytes cannot be cut into segments: no ISA, an unusable ISA, no terminator in sight."""


class IsaError(TokenizeError):
    """The ISA header cannot be read: too few elements, an unusable delimiter."""


class EnvelopeError(X12Error):
    """Segments that tokenize but do not nest: ISA/IEA, GS/GE or ST/SE out of order or missing."""


class MissingTrailerError(EnvelopeError):
    """An SE, GE or IEA is missing: the next envelope segment or the end of the file came first."""


class MisplacedSegmentError(EnvelopeError):
    """A segment where the envelope structure does not allow it (a GS outside an ISA, an ST outside a GS)."""


class WriteError(X12Error):
    """A segment cannot be written with the given delimiters (a value contains one of them)."""
