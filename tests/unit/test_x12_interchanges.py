"""The inbound interchange registry: new, repeat (same ISA13 and content), control number reused."""

from __future__ import annotations

from pathlib import Path

from orderhub._sqlite import Database
from orderhub.store import interchanges
from orderhub.store.interchanges import find_interchanges, record_interchange, set_ack_ref
from orderhub.x12 import parse
from orderhub.x12._acks import interchange_sha256

SENDER = {"sender_qualifier": "ZZ", "sender_id": "ACME", "receiver_qualifier": "ZZ", "receiver_id": "ORDERHUB"}

# orderhub's own minimal interchange, written for this test
PO = (
    "ISA*00*          *00*          *ZZ*ACME           *ZZ*ORDERHUB       *261123*0800*U*00401*000000123*0*P*>~\n"
    "GS*PO*ACME*ORDERHUB*20261123*0800*1*X*004010~\nST*850*0001~\nBEG*00*SA*PO-1**20261123~\nSE*3*0001~\n"
    "GE*1*1~\nIEA*1*000000123~\n"
)


async def test_new_repeat_and_reused(tmp_path: Path) -> None:
    db = Database(tmp_path / "hub.sqlite")
    db.add_schema(interchanges.SCHEMA)
    db.open()
    try:
        first = await db.write(
            lambda c: record_interchange(c, **SENDER, control_number="000000123", content_sha256="a" * 64, receipt=1)
        )
        again = await db.write(
            lambda c: record_interchange(c, **SENDER, control_number="123 ", content_sha256="a" * 64, receipt=2)
        )
        other = await db.write(
            lambda c: record_interchange(c, **SENDER, control_number="000000123", content_sha256="b" * 64, receipt=3)
        )
        other_again = await db.write(
            lambda c: record_interchange(c, **SENDER, control_number="123", content_sha256="b" * 64)
        )
        elsewhere = await db.write(
            lambda c: record_interchange(
                c, **{**SENDER, "sender_id": "GLOBEX"}, control_number="123", content_sha256="a" * 64
            )
        )
        assert (first, again, other, other_again, elsewhere) == (
            "new",
            "repeat",
            "control_number_reused",
            "repeat",
            "new",
        )
        await db.write(
            lambda c: set_ack_ref(
                c, **SENDER, control_number="123", content_sha256="a" * 64, ack_ref="outbox:acme-1.x12"
            )
        )
        records = await db.read(lambda c: find_interchanges(c, **SENDER, control_number="000000123"))
        assert [(r.content_sha256[0], r.receipt, r.ack_ref) for r in records] == [
            ("a", 1, "outbox:acme-1.x12"),
            ("b", 3, None),
        ]
    finally:
        await db.close()


def test_content_hash_ignores_formatting_but_not_content() -> None:
    (plain,) = parse(PO.encode()).interchanges
    (reformatted,) = parse(PO.replace("~\n", "~\r\n    ").encode()).interchanges
    (changed,) = parse(PO.replace("PO-1", "PO-2").encode()).interchanges
    assert interchange_sha256(plain) == interchange_sha256(reformatted)
    assert interchange_sha256(plain) != interchange_sha256(changed)
