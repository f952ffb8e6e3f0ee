"""Property tests: arbitrary and mutated input never raises anything but `X12Error`, never hangs,
and whatever parses writes back byte for byte and reads the same in small chunks."""

from __future__ import annotations

import io
from datetime import timedelta
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderhub.x12 import EnvelopeReader, X12Error, parse, serialize
from tests.conftest import CORPUS
from tests.unit.x12.builders import interchange, isa

# A generous per-example deadline: inputs are a few kB at most, so only a hang or a blow-up can reach it.
SETTINGS = settings(max_examples=250, deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
DELIMITER_BYTES = b"*~>:^|!\r\n \t"


@cache
def _seeds() -> tuple[bytes, ...]:
    synthetic = (
        interchange(2).encode(),
        interchange(1, terminator="\r", newline="\n").encode(),
        interchange(1, element="|", component="^", terminator="!\n").encode(),
    )
    corpus = tuple(
        path.read_bytes() for path in sorted((CORPUS / "x12").glob("*/*")) if path.is_file() and path.suffix != ".md"
    )
    return synthetic + corpus


def _check(data: bytes) -> None:
    try:
        document = parse(data)
    except X12Error as error:
        assert error.message
        return
    assert serialize(document) == data
    streamed = EnvelopeReader(io.BytesIO(data), chunk_size=7)
    expected = [
        (s.tag, s.elements, s.ordinal, s.line, s.offset)
        for _, _, transaction_set in document.transaction_sets()
        for s in transaction_set.segments
    ]
    got = [
        (s.tag, s.elements, s.ordinal, s.line, s.offset)
        for _, _, transaction_set in streamed
        for s in transaction_set.segments
    ]
    assert got == expected
    assert streamed.findings == document.findings


@SETTINGS
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_after_a_valid_isa(data: bytes) -> None:
    _check((isa() + "~").encode() + data)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    seeds = _seeds()
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        if kind == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif kind == "insert":
            data[at:at] = draw(
                st.binary(min_size=1, max_size=8) | st.sampled_from([bytes([b]) for b in DELIMITER_BYTES])
            )
        elif kind == "replace":
            data[at] = draw(st.sampled_from([*DELIMITER_BYTES, 0, 0x41, 0xA0, 0xEF]))
        elif kind == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        else:
            del data[at:]
    return bytes(data)


@SETTINGS
@given(_mutated())
def test_mutated_files(data: bytes) -> None:
    _check(data)


def test_seeds_include_the_corpus_when_present() -> None:
    assert len(_seeds()) >= 3
    if Path(CORPUS, "x12").is_dir():
        assert len(_seeds()) == 73
