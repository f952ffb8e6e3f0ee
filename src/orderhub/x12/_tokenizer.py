"""Tolerant, streaming X12 tokenizer: bytes in, `Segment`s out, in bounded memory.

Bytes are decoded as latin-1 (one byte, one character) so offsets are byte offsets and a round trip
is exact. Each interchange's ISA declares its delimiters (unless the caller passes an override);
after it the text is cut on the terminator with `str.find`. Whitespace before a segment (line
breaks, indentation, a BOM) is not data: it is kept on the segment as `trivia`, and whatever follows
the last segment as `SegmentReader.trailer`, so the serializer can give the file back byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from orderhub.x12._errors import TokenizeError
from orderhub.x12._findings import Finding
from orderhub.x12._isa import LOOKAHEAD, WHITESPACE, read_isa
from orderhub.x12._segments import Delimiters, Segment

BOM = "\xef\xbb\xbf"  # the UTF-8 byte order mark, as latin-1 characters
DEFAULT_CHUNK_SIZE = 1 << 20
DEFAULT_MAX_SEGMENT_LENGTH = 1 << 20

_WHITESPACE_RUN = re.compile(r"[ \t\r\n]*")


def _skip_whitespace(text: str, start: int) -> int:
    match = _WHITESPACE_RUN.match(text, start)
    return match.end() if match else start


def _split_key(terminator: str, suffix: str) -> str:
    # A space terminator also occurs inside data ("SOLD TO"); when the file puts a line break after
    # every terminator, cutting on terminator + line break is the only reading that works.
    if terminator.strip(" \t") == "" and suffix:
        return terminator + suffix
    return terminator


def _is_isa(body: str) -> bool:
    return body.startswith("ISA") and len(body) > 3 and not body[3].isalnum() and body[3] not in WHITESPACE


class SegmentReader:
    """Iterate the segments of an X12 byte stream; after iteration `trailer` holds what followed them.

    `delimiters` (a per-partner override) wins over what each ISA declares; with it, a fragment
    without an ISA can be read too. `findings` collects ISA repairs (a wrapped ISA, no ISA16).
    `delimiters_seen` lists the delimiters of each interchange in file order.
    """

    def __init__(
        self,
        source: BinaryIO | bytes,
        delimiters: Delimiters | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_segment_length: int = DEFAULT_MAX_SEGMENT_LENGTH,
    ) -> None:
        self._source = source
        self._override = delimiters
        self._chunk_size = chunk_size
        self._max_segment_length = max_segment_length
        self.delimiters: Delimiters | None = None
        self.delimiters_seen: list[Delimiters] = []
        self.findings: list[Finding] = []
        self.trailer = ""

    def _chunks(self) -> Iterator[str]:
        if isinstance(self._source, bytes | bytearray | memoryview):
            yield bytes(self._source).decode("latin-1")
            return
        read = self._source.read
        while chunk := read(self._chunk_size):
            yield chunk.decode("latin-1")

    def __iter__(self) -> Iterator[Segment]:
        return self._segments(self._chunks())

    def _segments(self, chunks: Iterable[str]) -> Iterator[Segment]:
        source = iter(chunks)
        buf, pos, base, eof = "", 0, 0, False
        line, ordinal = 1, 0
        pending = ""  # trivia read but not yet given to a segment
        newline = ""
        need_header = True
        separator = terminator = key = suffix = ""
        max_length = self._max_segment_length

        while True:
            if need_header:
                while not eof and len(buf) - pos < LOOKAHEAD:
                    chunk = next(source, None)
                    if chunk is None:
                        eof = True
                    else:
                        buf, base, pos = buf[pos:] + chunk, base + pos, 0
                if not newline:
                    newline = "\n" if "\n" in buf or "\r" not in buf else "\r"
                start = pos + 3 if base + pos == 0 and buf.startswith(BOM) else pos
                begin = _skip_whitespace(buf, start)
                if begin == len(buf):
                    if eof:
                        self.trailer = pending + buf[pos:]
                        return
                    pending += buf[pos:begin]
                    line += buf.count(newline, pos, begin)
                    pos = begin
                    continue
                if _is_isa(buf[begin : begin + 4]):
                    trivia = pending + buf[pos:begin]
                    isa_line = line + buf.count(newline, pos, begin)
                    ordinal += 1
                    header = read_isa(
                        buf,
                        begin,
                        trivia=trivia,
                        offset=base + begin,
                        line=isa_line,
                        ordinal=ordinal,
                        override=self._override,
                    )
                    self.findings.extend(header.findings)
                    self.delimiters = header.delimiters
                    self.delimiters_seen.append(header.delimiters)
                    line = isa_line + buf.count(newline, begin, header.end)
                    pos, pending = header.end, ""
                    suffix = header.suffix
                    yield header.segment
                elif self._override is not None and ordinal == 0:
                    self.delimiters = self._override
                    self.delimiters_seen.append(self._override)
                    suffix = ""
                else:
                    found = buf[begin : begin + 20]
                    raise TokenizeError(
                        f"expected an ISA segment, found {found!r}",
                        offset=base + begin,
                        line=line + buf.count(newline, pos, begin),
                        segment_ordinal=ordinal + 1,
                        code="022",
                        code_source="TA1",
                    )
                assert self.delimiters is not None
                separator, terminator = self.delimiters.element, self.delimiters.segment
                key = _split_key(terminator, suffix)
                after_terminator = key[len(terminator) :]
                need_header = False

            j = buf.find(key, pos)
            if j < 0:
                if not eof:
                    if len(buf) - pos > max_length:
                        raise TokenizeError(
                            f"no segment terminator {terminator!r} within {max_length} bytes",
                            offset=base + pos,
                            line=line,
                            segment_ordinal=ordinal + 1,
                        )
                    chunk = next(source, None)
                    if chunk is None:
                        eof = True
                    else:
                        buf, base, pos = buf[pos:] + chunk, base + pos, 0
                    continue
                piece = buf[pos:]
                body = piece.lstrip(WHITESPACE)
                if not body:
                    self.trailer = pending + piece
                    return
                if _is_isa(body):
                    need_header = True
                    continue
                lead = len(piece) - len(body)
                core = body.rstrip(WHITESPACE)
                tail = body[len(core) :]
                end = ""
                if terminator.strip(WHITESPACE) == "" and tail.startswith(terminator):
                    end, tail = terminator, tail[len(terminator) :]
                elements = core.split(separator)
                yield Segment(
                    elements[0],
                    elements[1:],
                    ordinal + 1,
                    line + buf.count(newline, pos, pos + lead),
                    base + pos + lead,
                    pending + piece[:lead],
                    end,
                )
                self.trailer = tail
                return

            piece = buf[pos:j]
            if piece and piece[0] in WHITESPACE:
                body = piece.lstrip(WHITESPACE)
                lead = len(piece) - len(body)
                if not body:  # an empty segment: keep it, and its terminator, as trivia
                    pending += piece + key
                    line += buf.count(newline, pos, j + len(key))
                    pos = j + len(key)
                    continue
                trivia = pending + piece[:lead]
                seg_line = line + buf.count(newline, pos, pos + lead)
            elif piece:
                body, lead, trivia, seg_line = piece, 0, pending, line
            else:
                pending += key
                line += key.count(newline)
                pos = j + len(key)
                continue
            if body[:3] == "ISA" and _is_isa(body):
                need_header = True
                continue
            elements = body.split(separator)
            ordinal += 1
            segment = Segment(elements[0], elements[1:], ordinal, seg_line, base + pos + lead, trivia, terminator)
            line = seg_line + buf.count(newline, pos + lead, j + len(key))
            pending = after_terminator
            pos = j + len(key)
            yield segment


def iter_segments(
    stream: BinaryIO,
    delimiters: Delimiters | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_segment_length: int = DEFAULT_MAX_SEGMENT_LENGTH,
) -> Iterator[Segment]:
    """Yield the segments of `stream`, reading `chunk_size` bytes at a time."""
    return iter(SegmentReader(stream, delimiters, chunk_size=chunk_size, max_segment_length=max_segment_length))


def read_segments(data: bytes, delimiters: Delimiters | None = None) -> list[Segment]:
    """All segments of an in-memory file."""
    return list(SegmentReader(data, delimiters))
