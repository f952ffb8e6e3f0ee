"""Tolerant, streaming X12 tokenizer: bytes in, `Segment`s out, in bounded memory.

Bytes are decoded as latin-1 (one byte, one character) so offsets are byte offsets and a round trip
is exact. Each interchange's ISA declares its delimiters (unless the caller passes an override);
after it the text is cut on the terminator: a batch of plain segments with one `str.split`, anything
irregular (whitespace or empty segments between terminators, an ISA) segment by segment. The segments
of a plain batch share one `Run` from which each one's ordinal, line, offset, trivia and terminator
are computed when asked for, so cutting makes no more than a small object per segment. Whitespace
before a segment (line breaks, indentation, a BOM) is not data: it is kept on the segment as
`trivia`, and whatever follows the last segment as `SegmentReader.trailer`, so the serializer can
give the file back byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import BinaryIO

from orderhub.x12._errors import TokenizeError
from orderhub.x12._findings import Finding
from orderhub.x12._gc import collector_paused
from orderhub.x12._isa import LOOKAHEAD, WHITESPACE, read_isa
from orderhub.x12._segments import Delimiters, Run, Segment

BOM = "\xef\xbb\xbf"  # the UTF-8 byte order mark, as latin-1 characters
END_PADDING = WHITESPACE + "\x1a\x00"  # Ctrl-Z and NUL fill after the last segment (DOS, block transfers)
DEFAULT_CHUNK_SIZE = 1 << 20
DEFAULT_MAX_SEGMENT_LENGTH = 1 << 20

_WHITESPACE_RUN = re.compile(r"[ \t\r\n]*")
_IRREGULAR_AFTER_KEY = "(?:[ \t\r\n]|ISA)"


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
    return body.startswith("ISA") and (len(body) == 3 or not body[3].isalnum())


class _Cursor:
    """Where reading stands: the undigested text and the file position of `buf[pos]`."""

    __slots__ = ("base", "buf", "eof", "line", "newline", "ordinal", "pending", "pos")

    def __init__(self) -> None:
        self.buf = ""
        self.pos = 0
        self.base = 0  # file offset of buf[0]
        self.eof = False
        self.line = 1  # line of buf[pos]
        self.ordinal = 0  # segments read so far
        self.pending = ""  # trivia read but not yet given to a segment
        self.newline = ""


_ISA_AHEAD, _NEED_MORE = 1, 2
# The text cut per batch: big enough that the per-batch checks cost nothing per segment, small enough
# that a streaming reader holds few segments at a time.
BATCH_CHARS = 1 << 16


def _cut(cursor: _Cursor, key: str, separator: str, terminator: str, out: list[Segment]) -> int:
    """Append to `out` the segments whose terminator is in the buffer; stop before an ISA or at its end.

    The buffer is taken a batch at a time (up to the last terminator within `BATCH_CHARS`). A batch
    of plain segments, the usual case, is cut with one `str.split` (`_cut_plain`); a batch with
    anything else in it (uneven whitespace or empty segments between terminators, line breaks inside
    a segment, an ISA) is read segment by segment (`_cut_each`), which handles every case.
    """
    buf, step = cursor.buf, len(key)
    while True:
        pos = cursor.pos
        last = buf.rfind(key, pos, pos + BATCH_CHARS)
        if last < 0:
            last = buf.find(key, pos)
            if last < 0:
                return _NEED_MORE
        if last > pos and _cut_plain(cursor, last, key, separator, terminator, out):
            continue
        if _cut_each(cursor, last + step, key, separator, terminator, out) == _ISA_AHEAD:
            return _ISA_AHEAD


def _cut_plain(cursor: _Cursor, last: int, key: str, separator: str, terminator: str, out: list[Segment]) -> bool:
    """Cut `buf[pos:last]` with one split when its segments are plain; False (nothing read) if not.

    Plain: the same whitespace `lead` comes before every segment (none, or the line break a file puts
    after each terminator), no segment is empty or an ISA, and line breaks occur only in terminators
    and leads, so every segment's trivia, line and offset follow from the one before it: the segments
    share one `Run` that holds them.
    """
    buf, pos = cursor.buf, cursor.pos
    start = _skip_whitespace(buf, pos)
    if start >= last:
        return False
    lead = buf[pos:start]
    region = buf[start:last]
    split_key = key + lead
    # one scan instead of one per case: a key followed by more whitespace or by an ISA
    if region.startswith("ISA") or re.search(re.escape(split_key) + _IRREGULAR_AFTER_KEY, region):
        return False
    if lead and region.count(key) != region.count(split_key):
        return False  # another lead somewhere
    pieces = region.split(split_key)
    if not all(pieces):
        return False  # an empty segment: kept as trivia, segment by segment
    newline = cursor.newline
    per_split = split_key.count(newline)
    if region.count(newline) != (len(pieces) - 1) * per_split:
        return False  # a line break inside a segment: lines need counting piece by piece
    after = key[len(terminator) :]
    line = cursor.line + lead.count(newline)
    run = Run(
        cursor.ordinal + 1,
        line,
        cursor.base + start,
        cursor.pending + lead,
        terminator,
        lines_each=per_split,
        next_trivia=after + lead,
        text=region,
        key=split_key,
    )
    Segment.cut(pieces, separator, run, out)
    # the terminator at `last` is read, the whitespace after it is left to the next segment
    cursor.line = line + (len(pieces) - 1) * per_split + key.count(newline)
    cursor.pos, cursor.ordinal, cursor.pending = last + len(key), cursor.ordinal + len(pieces), after
    return True


def _cut_each(cursor: _Cursor, stop: int, key: str, separator: str, terminator: str, out: list[Segment]) -> int:
    """Segment by segment, the terminators that end before `stop`: every case the tokenizer reads."""
    buf, pos, line, ordinal, pending = cursor.buf, cursor.pos, cursor.line, cursor.ordinal, cursor.pending
    base, newline, step = cursor.base, cursor.newline, len(key)
    after_terminator = key[len(terminator) :]
    find, count, append = buf.find, buf.count, out.append
    while True:
        j = find(key, pos, stop)
        if j < 0:
            break
        piece = buf[pos:j]
        if piece and piece[0] in WHITESPACE:
            body = piece.lstrip(WHITESPACE)
            lead = len(piece) - len(body)
            if not body:  # an empty segment: keep it, and its terminator, as trivia
                pending += piece + key
                line += count(newline, pos, j + step)
                pos = j + step
                continue
            trivia = pending + piece[:lead]
            seg_line = line + count(newline, pos, pos + lead)
        elif piece:
            body, lead, trivia, seg_line = piece, 0, pending, line
        else:
            pending += key
            line += key.count(newline)
            pos = j + step
            continue
        if body[0] == "I" and _is_isa(body):
            cursor.pos, cursor.line, cursor.ordinal, cursor.pending = pos, line, ordinal, pending
            return _ISA_AHEAD
        elements = body.split(separator)
        ordinal += 1
        append(Segment(elements.pop(0), elements, ordinal, seg_line, base + pos + lead, trivia, terminator))
        line = seg_line + count(newline, pos + lead, j + step)
        pending = after_terminator
        pos = j + step
    cursor.pos, cursor.line, cursor.ordinal, cursor.pending = pos, line, ordinal, pending
    return _NEED_MORE


def _last(cursor: _Cursor, separator: str, terminator: str) -> tuple[Segment | None, str]:
    """The segment after the last terminator at the end of the file (if any) and the trailing text."""
    piece = cursor.buf[cursor.pos :]
    body = piece.lstrip(WHITESPACE)
    if not body.strip(END_PADDING):
        return None, cursor.pending + piece
    lead = len(piece) - len(body)
    core = body.rstrip(END_PADDING)
    tail = body[len(core) :]
    end = ""
    if terminator.strip(WHITESPACE) == "" and tail.startswith(terminator):
        end, tail = terminator, tail[len(terminator) :]
    elements = core.split(separator)
    segment = Segment(
        elements[0],
        elements[1:],
        cursor.ordinal + 1,
        cursor.line + cursor.buf.count(cursor.newline, cursor.pos, cursor.pos + lead),
        cursor.base + cursor.pos + lead,
        cursor.pending + piece[:lead],
        end,
    )
    return segment, tail


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
        if delimiters is not None and (
            not delimiters.element or not delimiters.segment or delimiters.element in delimiters.segment
        ):
            raise TokenizeError(
                f"override delimiters need an element separator and a different segment terminator, "
                f"found element {delimiters.element!r} and terminator {delimiters.segment!r}"
            )
        self._source = source
        self._override = delimiters
        self._suffix = ""  # line break after the current ISA's terminator
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

    @staticmethod
    def _fill(cursor: _Cursor, source: Iterator[str]) -> None:
        chunk = next(source, None)
        if chunk is None:
            cursor.eof = True
        else:
            cursor.buf, cursor.base, cursor.pos = cursor.buf[cursor.pos :] + chunk, cursor.base + cursor.pos, 0

    def _header(self, cursor: _Cursor, source: Iterator[str]) -> Iterator[Segment]:
        """Read up to and including the next ISA (or, with an override and no ISA, set up for a fragment).

        Sets `self.delimiters`; yields the ISA segment; yields nothing at the end of the file.
        """
        while True:
            while not cursor.eof and len(cursor.buf) - cursor.pos < LOOKAHEAD:
                self._fill(cursor, source)
            buf, pos = cursor.buf, cursor.pos
            if not cursor.newline:
                cursor.newline = "\n" if "\n" in buf or "\r" not in buf else "\r"
            start = pos + 3 if cursor.base + pos == 0 and buf.startswith(BOM) else pos
            begin = _skip_whitespace(buf, start)
            only_padding = (
                cursor.eof and buf[begin : begin + 1] in ("\x1a", "\x00") and not buf[begin:].strip(END_PADDING)
            )
            if begin < len(buf) and not only_padding:
                break
            if cursor.eof:
                self.trailer = cursor.pending + buf[pos:]
                self.delimiters = None
                return
            begin = min(begin, len(buf))
            cursor.pending += buf[pos:begin]
            cursor.line += buf.count(cursor.newline, pos, begin)
            cursor.pos = begin
        line = cursor.line + buf.count(cursor.newline, pos, begin)
        if _is_isa(buf[begin : begin + 4]):
            cursor.ordinal += 1
            header = read_isa(
                buf,
                begin,
                trivia=cursor.pending + buf[pos:begin],
                offset=cursor.base + begin,
                line=line,
                ordinal=cursor.ordinal,
                override=self._override,
            )
            self.findings.extend(header.findings)
            self.delimiters = header.delimiters
            self.delimiters_seen.append(header.delimiters)
            cursor.line = line + buf.count(cursor.newline, begin, header.end)
            cursor.pos, cursor.pending = header.end, ""
            self._suffix = header.suffix
            yield header.segment
        elif self._override is not None and cursor.ordinal == 0:
            self.delimiters = self._override
            self.delimiters_seen.append(self._override)
            self._suffix = ""
        else:
            raise TokenizeError(
                f"expected an ISA segment, found {buf[begin : begin + 20]!r}",
                offset=cursor.base + begin,
                line=line,
                segment_ordinal=cursor.ordinal + 1,
                code="022",
                code_source="TA1",
            )

    def _segments(self, chunks: Iterable[str]) -> Iterator[Segment]:
        return chain.from_iterable(self._batches(chunks))

    def _batches(self, chunks: Iterable[str]) -> Iterator[list[Segment]]:
        """The segments in file order, in lists: one per ISA, one per buffer cut, one for the last."""
        source = iter(chunks)
        cursor = _Cursor()
        while True:
            yield list(self._header(cursor, source))
            delimiters = self.delimiters
            if delimiters is None:
                return
            separator, terminator = delimiters.element, delimiters.segment
            key = _split_key(terminator, self._suffix)
            while True:
                segments: list[Segment] = []
                # _cut calls nothing of the caller; not collecting while it builds a batch: streaming ~15% faster
                with collector_paused(promote=False):
                    status = _cut(cursor, key, separator, terminator, segments)
                yield segments
                if status == _ISA_AHEAD:
                    break
                if _is_isa(cursor.buf[cursor.pos : cursor.pos + LOOKAHEAD].lstrip(WHITESPACE)[:4]):
                    break  # the next interchange may use another terminator: read its ISA first
                if cursor.eof:
                    segment, self.trailer = _last(cursor, separator, terminator)
                    if segment is not None:
                        yield [segment]
                    return
                if len(cursor.buf) - cursor.pos > self._max_segment_length:
                    raise TokenizeError(
                        f"no segment terminator {terminator!r} within {self._max_segment_length} bytes",
                        offset=cursor.base + cursor.pos,
                        line=cursor.line,
                        segment_ordinal=cursor.ordinal + 1,
                    )
                self._fill(cursor, source)


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
    reader = SegmentReader(data, delimiters)
    segments: list[Segment] = []
    with collector_paused():
        for batch in reader._batches(reader._chunks()):  # as iterating the reader does, a list at a time
            segments += batch
    return segments
