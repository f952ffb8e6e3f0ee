"""One contract for every Bus backend: the embedded SQLite bus and Kafka (a real broker)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from orderhub._sqlite import Database
from orderhub.bus.base import Bus, BusError, Message, OutMessage, Subscription
from orderhub.bus.embedded import EmbeddedBus
from orderhub.bus.kafka import KafkaBus
from tests.helpers import embedded_bus


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
async def bus(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Bus]:
    if request.param == "kafka":
        bootstrap: str = request.getfixturevalue("kafka_bootstrap")
        # a topic prefix per test: each test sees only its own messages on the shared broker
        kafka = KafkaBus(
            bootstrap,
            topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
            enable_idempotence=False,
            session_timeout_ms=1000,
            heartbeat_interval_ms=200,
        )
        await kafka.start()
        yield kafka
        await kafka.close()
        return
    async with embedded_bus(tmp_path / "bus.sqlite") as embedded:
        yield embedded


def group(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def fetch_n(subscription: Subscription, n: int, within: float = 15.0) -> list[Message]:
    """Fetch until `n` messages came (a Kafka consumer first has to join its group)."""
    messages: list[Message] = []
    deadline = time.monotonic() + within
    while len(messages) < n and time.monotonic() < deadline:
        messages += await subscription.fetch(500, timeout=0.5)
    return messages


async def fetch_rest(subscription: Subscription) -> list[Message]:
    """What else comes within a short wait (to prove nothing extra was delivered)."""
    return await subscription.fetch(500, timeout=0.3)


def by_key(messages: Sequence[Message]) -> dict[str | None, list[bytes]]:
    grouped: dict[str | None, list[bytes]] = defaultdict(list)
    for m in messages:
        grouped[m.key].append(m.value)
    return dict(grouped)


def values(messages: Sequence[Message]) -> list[bytes]:
    return [m.value for m in messages]


async def test_publish_then_fetch_returns_values_keys_and_headers(bus: Bus) -> None:
    sent = [
        OutMessage("orders", b'{"n": 1}', key="acme:1", headers=(("trace", b"t-1"), ("kind", b"order"))),
        OutMessage("orders", b'{"n": 2}', key="acme:2"),
        OutMessage("orders", b'{"n": 3}', key="acme:1", headers=(("trace", b"t-3"),)),
        OutMessage("orders", b"\x00\xffbinary", key=None, headers=(("empty", b""),)),
    ]
    await bus.publish(sent)
    subscription = await bus.subscribe("orders", group("roundtrip"))
    got = await fetch_n(subscription, 4)
    got += await fetch_rest(subscription)

    assert sorted((m.key or "", m.value, m.headers) for m in got) == sorted(
        (m.key or "", m.value, m.headers) for m in sent
    )
    assert by_key(got) == {
        "acme:1": [b'{"n": 1}', b'{"n": 3}'],
        "acme:2": [b'{"n": 2}'],
        None: [b"\x00\xffbinary"],
    }
    assert all(m.topic == "orders" for m in got)
    assert all(m.timestamp_ms > 1_600_000_000_000 for m in got)
    await subscription.close()


async def test_messages_carry_logical_topic_names(bus: Bus) -> None:
    await bus.publish([OutMessage("raw", b"r1", key="a"), OutMessage("dlq", b"d1", key="a")])
    await bus.publish([OutMessage("raw", b"r2", key="a")])
    raw = await bus.subscribe("raw", group("topics"))
    dlq = await bus.subscribe("dlq", group("topics"))
    raw_got = await fetch_n(raw, 2)
    dlq_got = await fetch_n(dlq, 1)

    assert [(m.topic, m.value) for m in raw_got] == [("raw", b"r1"), ("raw", b"r2")]
    assert [(m.topic, m.value) for m in dlq_got] == [("dlq", b"d1")]
    assert await fetch_rest(raw) == []
    await raw.close()
    await dlq.close()


async def test_new_subscription_resumes_after_commit_and_redelivers_the_rest(bus: Bus) -> None:
    sent = [OutMessage("orders", f"m{i}".encode(), key=f"k{i % 4}") for i in range(30)]
    await bus.publish(sent)
    name = group("resume")

    first = await bus.subscribe("orders", name)
    got = await fetch_n(first, 30)
    assert sorted(values(got)) == sorted(m.value for m in sent)
    committed, uncommitted = got[:12], got[12:]
    await first.commit(committed)
    await first.close()

    second = await bus.subscribe("orders", name)
    again = await fetch_n(second, len(uncommitted))
    again += await fetch_rest(second)
    assert sorted(values(again)) == sorted(values(uncommitted))
    await second.close()


async def test_two_groups_each_get_everything(bus: Bus) -> None:
    sent = [OutMessage("routed", f"v{i}".encode(), key=f"order-{i % 3}") for i in range(20)]
    await bus.publish(sent)
    one = await bus.subscribe("routed", group("one"))
    two = await bus.subscribe("routed", group("two"))
    got_one = await fetch_n(one, 20)
    await one.commit(got_one)
    got_two = await fetch_n(two, 20)

    expected = sorted(m.value for m in sent)
    assert sorted(values(got_one)) == expected
    assert sorted(values(got_two)) == expected
    await one.close()
    await two.close()


async def test_messages_of_one_key_stay_in_order(bus: Bus) -> None:
    keys = [f"acme:{k}" for k in range(5)]
    for batch in range(3):
        await bus.publish(
            [OutMessage("fulfillment", f"{key}#{batch * 20 + i}".encode(), key=key) for i in range(20) for key in keys]
        )
    subscription = await bus.subscribe("fulfillment", group("order"))
    got = await fetch_n(subscription, 300)

    assert len(got) == 300
    assert by_key(got) == {key: [f"{key}#{i}".encode() for i in range(60)] for key in keys}
    for key in keys:
        offsets = [m.offset for m in got if m.key == key]
        assert offsets == sorted(offsets)
    await subscription.close()


async def test_fetch_with_nothing_returns_empty_within_timeout(bus: Bus) -> None:
    subscription = await bus.subscribe("outbound", group("empty"))
    started = time.monotonic()
    got = await subscription.fetch(10, timeout=0.3)
    elapsed = time.monotonic() - started

    assert got == []
    assert elapsed < 1.5
    await subscription.close()


async def test_waiting_fetch_returns_when_a_message_is_published(bus: Bus) -> None:
    subscription = await bus.subscribe("orders", group("wake"))

    async def publish_later() -> None:
        await asyncio.sleep(0.2)
        await bus.publish([OutMessage("orders", b"late", key="k")])

    publisher = asyncio.create_task(publish_later())
    started = time.monotonic()
    got: list[Message] = []
    while not got and time.monotonic() - started < 8:
        got = await subscription.fetch(10, timeout=8)
    elapsed = time.monotonic() - started
    await publisher

    assert values(got) == [b"late"]
    assert elapsed < 5
    await subscription.close()


async def test_publish_of_2000_in_batches_arrives_complete_without_duplicates(bus: Bus) -> None:
    total, batch = 2000, 250
    for start in range(0, total, batch):
        await bus.publish(
            [OutMessage("raw", f"payload-{i}".encode(), key=f"order-{i % 37}") for i in range(start, start + batch)]
        )
    subscription = await bus.subscribe("raw", group("bulk"))
    got = await fetch_n(subscription, total)
    got += await fetch_rest(subscription)

    assert len(got) == total
    assert len(set(values(got))) == total
    assert set(values(got)) == {f"payload-{i}".encode() for i in range(total)}
    await subscription.close()


async def test_ping_is_true_while_running(bus: Bus) -> None:
    assert await bus.ping() is True


async def test_after_close_publish_raises_and_ping_is_false(bus: Bus) -> None:
    await bus.close()

    with pytest.raises(BusError):
        await bus.publish([OutMessage("orders", b"x", key="k")])
    assert await bus.ping() is False


# embedded-only behaviour ---------------------------------------------------------------------------


async def test_embedded_sees_messages_published_by_another_process(tmp_path: Path) -> None:
    """Two Database objects on one file stand for two processes: no in-process wake-up, only polling."""
    path = tmp_path / "shared.sqlite"
    db_a, db_b = Database(path), Database(path)
    bus_a, bus_b = EmbeddedBus(db_a), EmbeddedBus(db_b)
    await bus_a.start()
    await bus_b.start()
    try:
        subscription = await bus_a.subscribe("orders", "g")
        fetching = asyncio.create_task(subscription.fetch(10, timeout=3))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await bus_b.publish([OutMessage("orders", b"from-b", key="k", headers=(("h", b"1"),))])
        got = await fetching
        elapsed = time.monotonic() - started

        assert [(m.topic, m.partition, m.value, m.key, m.headers) for m in got] == [
            ("orders", 0, b"from-b", "k", (("h", b"1"),))
        ]
        assert elapsed < 1.0
    finally:
        await bus_a.close()
        await bus_b.close()
        await db_a.close()
        await db_b.close()


async def test_embedded_topic_prefix_separates_buses_on_one_file(tmp_path: Path) -> None:
    db = Database(tmp_path / "bus.sqlite")
    blue, green = EmbeddedBus(db, topic_prefix="blue."), EmbeddedBus(db, topic_prefix="green.")
    await blue.start()
    await green.start()
    try:
        await blue.publish([OutMessage("orders", b"b1", key="k")])
        await green.publish([OutMessage("orders", b"g1", key="k")])
        got = await (await green.subscribe("orders", "g")).fetch(10, timeout=0.2)
        assert [(m.topic, m.value) for m in got] == [("orders", b"g1")]
    finally:
        await blue.close()
        await green.close()
        await db.close()


# kafka-only behaviour ------------------------------------------------------------------------------


async def test_kafka_start_without_a_broker_raises_bus_error_naming_the_address() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    bus = KafkaBus(address, enable_idempotence=False)

    with pytest.raises(BusError, match=f"broker at {address}"):
        await bus.start()
    assert await bus.ping() is False
    with pytest.raises(BusError):
        await bus.publish([OutMessage("orders", b"x")])


@pytest.mark.kafka
async def test_kafka_commit_after_the_group_moved_the_partitions_is_dropped_not_raised(kafka_bootstrap: str) -> None:
    """A rebalance during a slow batch makes the broker refuse the commit; the next owner gets the
    batch again (consumers are idempotent), so the stage must carry on instead of failing."""
    from aiokafka.errors import CommitFailedError, KafkaConnectionError

    bus = KafkaBus(
        kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        enable_idempotence=False,
        session_timeout_ms=1000,
        heartbeat_interval_ms=200,
    )
    await bus.start()
    try:
        await bus.publish([OutMessage("orders", b"one", key="k")])
        subscription = await bus.subscribe("orders", group("moved"))
        batch = await fetch_n(subscription, 1)
        assert values(batch) == [b"one"]

        async def refused(offsets: object) -> None:
            raise CommitFailedError("the group has already rebalanced")

        subscription._consumer.commit = refused  # type: ignore[method-assign]
        await subscription.commit(batch)  # no exception: ownership moved, the batch comes again

        async def unreachable(offsets: object) -> None:
            raise KafkaConnectionError("connection refused")

        subscription._consumer.commit = unreachable  # type: ignore[method-assign]
        with pytest.raises(BusError, match="could not commit offsets"):
            await subscription.commit(batch)  # a real failure still surfaces
    finally:
        await bus.close()


async def test_embedded_notify_wakes_the_fetchers_of_the_named_topics_only(tmp_path: Path) -> None:
    db = Database(tmp_path / "bus.sqlite")
    bus = EmbeddedBus(db, topic_prefix="p.")
    await bus.start()
    try:
        raw, orders = bus._wakeup("p.raw"), bus._wakeup("p.orders")  # what fetchers of each wait on
        bus.notify("raw")
        assert raw.is_set() and not orders.is_set()
        bus.notify()  # no topic named: every fetcher
        assert orders.is_set()
    finally:
        await bus.close()
        await db.close()
