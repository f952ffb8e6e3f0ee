"""Smoke test of the X12 benchmark's building blocks on a tiny size (no timings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.x12_parse import (
    ISA_LENGTH,
    build_interchange,
    corpus_850_sets,
    naive,
    pyx12_split,
    stream_file,
    write_interchange,
)

from orderhub.x12 import Delimiters, parse, read_segments
from orderhub.x12._validator import validate_transaction_set

pytestmark = pytest.mark.corpus


def test_interchange_of_clean_corpus_sets_reads_back_with_correct_counts(corpus: Path) -> None:
    sets = corpus_850_sets(corpus / "x12")
    assert len(sets) >= 10
    assert all(s.body.endswith("~") and s.segments >= 3 for s in sets)
    assert "gozer_walmart_vics.txt" not in {s.source for s in sets}  # its SE01 is wrong in the corpus

    data, built = build_interchange(sets, 50 * 1024)
    assert 40 * 1024 < built.size == len(data) < 60 * 1024
    assert data[ISA_LENGTH - 1 : ISA_LENGTH + 2] == b"~GS"
    assert b"\n" not in data and b"\r" not in data

    document = parse(data)
    assert document.findings == [] and document.trailer == ""
    [interchange] = document.interchanges
    assert interchange.delimiters == Delimiters("*", ">", "~")
    assert len(interchange.groups) == built.groups
    assert interchange.iea is not None and interchange.iea.element(1) == str(built.groups)
    found = list(document.transaction_sets())
    assert len(found) == built.sets
    assert len({ts.control_number for _, _, ts in found}) == built.sets
    for _, group, ts in found:
        assert ts.se.element(1) == str(len(ts.segments)) and ts.se.element(2) == ts.control_number
        assert validate_transaction_set(ts.segments, interchange.delimiters, group.version) == []
    for group in interchange.groups:
        assert group.ge is not None and group.ge.element(1) == str(len(group.sets))

    assert len(read_segments(data)) == built.segments
    assert len(naive(data)) == built.segments + 1  # the split leaves an empty piece after the last "~"
    assert len(pyx12_split(data)) == built.segments


def test_streaming_a_generated_file_counts_every_set(corpus: Path, tmp_path: Path) -> None:
    sets = corpus_850_sets(corpus / "x12")
    path = tmp_path / "generated.edi"
    with path.open("wb") as handle:
        built = write_interchange(handle.write, sets, 100 * 1024)
    assert path.stat().st_size == built.size
    streamed = stream_file(path)
    assert streamed["sets"] == built.sets
    assert streamed["segments"] == built.segments - 2 - 2 * built.groups  # ISA, IEA, GS and GE are not in sets
    assert streamed["peak_rss_mb"] >= streamed["rss_before_mb"] > 0
