"""Send a JSON file to an orderhub webhook, signed the way Shopify (or the generic webhook) signs."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import sys
import uuid
from pathlib import Path

import httpx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--topic", default="orders/create", help="X-Shopify-Topic")
    parser.add_argument("--generic", action="store_true", help="sign as the generic webhook (sha256=<hex>)")
    args = parser.parse_args()
    body = args.file.read_bytes()
    digest = hmac.new(args.secret.encode(), body, hashlib.sha256).digest()
    if args.generic:
        headers = {"X-Orderhub-Signature": "sha256=" + digest.hex()}
    else:
        headers = {
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Topic": args.topic,
            "X-Shopify-Event-Id": str(uuid.uuid4()),
        }
    headers["Content-Type"] = "application/json"
    try:
        response = httpx.post(args.url, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        print(f"could not reach {args.url}: {exc} (is `make run` running?)", file=sys.stderr)
        return 1
    print(response.status_code, response.text)
    return 0 if response.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
