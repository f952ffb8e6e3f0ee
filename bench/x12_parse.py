"""X12 parse throughput: the corpus and a generated large interchange, against naive splitting.

    python -m bench.x12_parse [--mb 50] [--seconds 1.5]

Baselines, measured in the same run: `data.split(b"~")` (cutting segments, no whitespace, no
positions, no ISA handling) and the same plus splitting every segment into elements; when pyx12 is
installed (the test extra), its segment reader too, with the number of corpus files it cannot read.
Ours: the tokenizer (`read_segments`), the full parse (tokenize + nest + checks) and streaming a
file (`iter_transaction_sets`, bounded memory).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.unit.x12.builders import isa, po_set  # noqa: E402

from orderhub.x12 import X12Error, iter_transaction_sets, parse, read_segments  # noqa: E402

CORPUS = Path(os.environ.get("ORDERHUB_CORPUS", ROOT.parent / "shared" / "corpus")).resolve() / "x12"


def _timed(run: Callable[[], object], seconds: float) -> float:
    """Seconds per call: repeat until `seconds` have passed (at least once), best of the rounds."""
    best = float("inf")
    spent = 0.0
    while spent < seconds or best == float("inf"):
        gc.collect()
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
    return best


def _corpus_files() -> list[bytes]:
    files = []
    for path in sorted(CORPUS.glob("*/*")):
        if path.is_file() and path.suffix != ".md":
            files.append(path.read_bytes())
    return files


def _write_big(path: Path, megabytes: int) -> int:
    """A typical 850 interchange (short segments) of about `megabytes` MB; returns the segment count."""
    target = megabytes * 1024 * 1024
    written = segments = sets = 0
    with path.open("wb") as out:
        head = f"{isa()}~\nGS*PO*SENDER*RECEIVER*20260101*1200*7*X*004010~\n".encode()
        out.write(head)
        written += len(head)
        while written < target:
            sets += 1
            block = po_set(f"{sets:09d}", lines=20)
            data = "".join(s + "~\n" for s in block).encode()
            out.write(data)
            written += len(data)
            segments += len(block)
        out.write(f"GE*{sets}*7~\nIEA*1*000000001~\n".encode())
    return segments + 4


def _pyx12_reader() -> Callable[[bytes], int] | None:
    """pyx12's segment reader as `data -> segment count`, or None when pyx12 is not installed."""
    try:
        x12file = importlib.import_module("pyx12.x12file")
    except ImportError:
        return None
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)

    def read(data: bytes) -> int:
        return sum(1 for _ in x12file.X12Reader(io.StringIO(data.decode("latin-1"))))

    return read


def _pyx12_corpus(read: Callable[[bytes], int], files: list[bytes]) -> int:
    failures = 0
    for data in files:
        try:
            read(data)
        except Exception:  # any failure to read counts; pyx12 raises several kinds
            failures += 1
    return failures


def _our_failures(files: list[bytes]) -> int:
    failures = 0
    for data in files:
        try:
            parse(data)
        except X12Error:
            failures += 1
    return failures


def _row(name: str, seconds: float, size: int, segments: int, baseline: float | None) -> str:
    mb_s = size / seconds / 1e6
    seg_s = segments / seconds / 1e6
    versus = f"{seconds / baseline:6.1f}x" if baseline else "     -"
    return f"  {name:<34} {mb_s:9.1f} MB/s {seg_s:7.2f} M seg/s  {versus}"


def _in_memory(data: bytes, segments: int, seconds: float) -> float:
    """Print the in-memory rows for one big file; returns the baseline time."""
    size = len(data)
    naive = _timed(lambda: data.split(b"~"), seconds)
    print(_row('baseline data.split(b"~")', naive, size, segments, None))
    naive_elements = _timed(lambda: [s.split(b"*") for s in data.split(b"~")], seconds)
    print(_row("baseline split + elements", naive_elements, size, segments, naive))
    print(_row("read_segments", _timed(lambda: read_segments(data), seconds), size, segments, naive))
    print(_row("parse (tokenize + nest + checks)", _timed(lambda: parse(data), seconds), size, segments, naive))
    return naive


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.x12_parse", description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50, help="size of the generated interchange (default 50)")
    parser.add_argument("--seconds", type=float, default=1.5, help="time spent per measurement (default 1.5)")
    args = parser.parse_args()

    files = _corpus_files()
    if files:
        size = sum(map(len, files))
        segments = sum(len(read_segments(data)) for data in files)

        def parse_all() -> None:
            for data in files:
                try:
                    parse(data)
                except X12Error:
                    pass

        naive = _timed(lambda: [data.split(b"~") for data in files], args.seconds)
        naive_elements = _timed(lambda: [[s.split(b"*") for s in data.split(b"~")] for data in files], args.seconds)
        print(f"corpus: {len(files)} files, {size / 1e3:.0f} kB, {segments} segments (x = time relative to split)")
        print(_row('baseline data.split(b"~")', naive, size, segments, None))
        print(_row("baseline split + elements", naive_elements, size, segments, naive))
        print(
            _row(
                "read_segments", _timed(lambda: [read_segments(d) for d in files], args.seconds), size, segments, naive
            )
        )
        print(_row("parse (tokenize + nest + checks)", _timed(parse_all, args.seconds), size, segments, naive))
        pyx12 = _pyx12_reader()
        if pyx12 is not None:
            failures = _pyx12_corpus(pyx12, files)
            print(f"  pyx12 X12Reader cannot read {failures} of the {len(files)} files (ours: {_our_failures(files)})")
    else:
        print(f"corpus: not found at {CORPUS} (set ORDERHUB_CORPUS); skipped")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.edi"
        segments = _write_big(path, args.mb)
        size = path.stat().st_size
        print(f"generated: {size / 1e6:.1f} MB, {segments} segments")
        naive = _in_memory(path.read_bytes(), segments, args.seconds)

        def stream() -> None:
            with path.open("rb") as handle:
                for _ in iter_transaction_sets(handle):
                    pass

        print(_row("iter_transaction_sets (from file)", _timed(stream, args.seconds), size, segments, naive))
        pyx12 = _pyx12_reader()
        if pyx12 is not None:
            data = path.read_bytes()
            print(_row("pyx12 X12Reader (segments only)", _timed(lambda: pyx12(data), 0), size, segments, naive))
    return 0


if __name__ == "__main__":
    sys.exit(main())
