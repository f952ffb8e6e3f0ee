"""Open-loop load at a fixed rate (the latency measurement): prints a JSON summary of latencies.

usage: python -m bench.loadgen URL REQUESTS_FILE RATE SECONDS
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp


def load_requests(path: str, limit: int) -> list[tuple[str, str, bytes]]:
    requests = []
    with open(path, "rb") as handle:
        for line in handle:
            sig, event, body = line.rstrip(b"\n").split(b"\t", 2)
            requests.append((sig.decode(), event.decode(), body))
            if len(requests) >= limit:
                break
    return requests


async def run(url: str, requests: list[tuple[str, str, bytes]], rate: float, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            nonlocal errors
            sig, event, body = requests[i % len(requests)]
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": sig,
                "X-Shopify-Event-Id": event,
            }
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

        tasks = []
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"sent": total, "ok": len(latencies), "errors": errors, "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def main() -> None:
    url, path, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    requests = load_requests(path, int(rate * seconds))
    print(json.dumps(asyncio.run(run(url, requests, rate, seconds))))


if __name__ == "__main__":
    main()
