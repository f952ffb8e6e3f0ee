"""Synthetic X12 text for the tests (written here, not taken from the corpus)."""

from __future__ import annotations

from collections.abc import Iterator


def isa(
    *,
    element: str = "*",
    component: str = ">",
    control: str = "000000001",
    version: str = "00401",
    isa11: str = "U",
) -> str:
    """A fixed-width ISA without its terminator (105 characters)."""
    fields = [
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        "SENDER".ljust(15),
        "ZZ",
        "RECEIVER".ljust(15),
        "260101",
        "1200",
        isa11,
        version,
        control,
        "0",
        "P",
        component,
    ]
    return element.join(["ISA", *fields])


def po_set(control: str, lines: int = 2, *, element: str = "*") -> list[str]:
    """One 850 as segment texts (no terminators), ST..SE with a correct SE01."""
    body = [f"BEG{element}00{element}SA{element}PO-{control}{element}{element}20260101"]
    for n in range(1, lines + 1):
        body.append(element.join(["PO1", str(n), "2", "EA", "9.99", "", "BP", f"SKU-{n:06d}"]))
        body.append(element.join(["PID", "F", "", "", "", f"Item {n} description"]))
    body.append(f"CTT{element}{lines}")
    segments = [f"ST{element}850{element}{control}", *body]
    segments.append(f"SE{element}{len(segments) + 1}{element}{control}")
    return segments


def interchange(
    sets: int = 1,
    *,
    element: str = "*",
    component: str = ">",
    terminator: str = "~",
    newline: str = "",
    control: str = "000000001",
) -> str:
    """A whole, correct interchange with one group of `sets` 850s."""
    segments = [isa(element=element, component=component, control=control)]
    segments.append(element.join(["GS", "PO", "SENDER", "RECEIVER", "20260101", "1200", "7", "X", "004010"]))
    for n in range(1, sets + 1):
        segments.extend(po_set(f"{n:04d}", element=element))
    segments.append(f"GE{element}{sets}{element}7")
    segments.append(f"IEA{element}1{element}{control}")
    return "".join(s + terminator + newline for s in segments)


NOTE = (
    "Deliver to dock 4 between 06:00 and 14:00; call ahead. Pallets max 1.2 m high, shrink-wrapped, one SKU per pallet"
)


def big_po_set(control: str, lines: int) -> list[str]:
    """An 850 whose lines carry three free-form MSG notes each (MSG01 holds up to 264 characters)."""
    body = [f"BEG*00*SA*PO-{control}**20260101"]
    for n in range(1, lines + 1):
        body.append(f"PO1*{n}*2*EA*9.99**BP*SKU-{n:06d}*UP*0{n:011d}")
        for note in range(1, 4):
            body.append(f"MSG*{n}.{note} {NOTE}. {NOTE}"[:268])
    body.append(f"CTT*{lines}")
    segments = [f"ST*850*{control}", *body]
    segments.append(f"SE*{len(segments) + 1}*{control}")
    return segments


def big_interchange(sets: int, lines: int = 20) -> Iterator[bytes]:
    """A large interchange, produced piece by piece so it never sits in memory whole."""
    yield (isa() + "~\n").encode()
    yield b"GS*PO*SENDER*RECEIVER*20260101*1200*7*X*004010~\n"
    for n in range(1, sets + 1):
        yield "".join(s + "~\n" for s in big_po_set(f"{n:09d}", lines)).encode()
    yield f"GE*{sets}*7~\nIEA*1*000000001~\n".encode()
