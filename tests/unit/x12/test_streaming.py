"""A ~50 MB interchange is read in bounded memory with exact counts.

The sets carry long MSG notes so the file reaches 50 MB with a quarter million segments: tracing
every allocation makes each segment costly, and what is measured here is memory, not speed.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from orderhub.x12 import EnvelopeReader
from tests.unit.x12.builders import big_interchange

SETS = 3_300
LINES = 20
SEGMENTS_PER_SET = 2 + 4 * LINES + 2  # ST, BEG, PO1 and three MSG per line, CTT, SE
PEAK_LIMIT = 20 * 1024 * 1024


def test_big_interchange_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.edi"
    with path.open("wb") as out:
        for piece in big_interchange(SETS, LINES):
            out.write(piece)
    size = path.stat().st_size
    assert size > 45 * 1024 * 1024

    sets = segments = 0
    last_control = ""
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            reader = EnvelopeReader(stream)
            for interchange, group, transaction_set in reader:
                sets += 1
                segments += len(transaction_set.segments)
                last_control = transaction_set.control_number
                assert interchange.groups == [] and group.sets == []
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sets == SETS
    assert segments == SETS * SEGMENTS_PER_SET
    assert last_control == f"{SETS:09d}"
    assert reader.findings == []
    assert reader.trailer == "\n"
    assert peak < PEAK_LIMIT, f"peak traced memory {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"
