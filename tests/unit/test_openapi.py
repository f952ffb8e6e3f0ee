"""The OpenAPI description is a valid OpenAPI 3.1 document and names every /api route the daemon serves."""

from __future__ import annotations

from pathlib import Path

from openapi_spec_validator import validate

from orderhub.service.config import default_config
from orderhub.service.http import make_app
from orderhub.service.hub import Hub
from orderhub.service.openapi import openapi


def test_the_description_is_valid_openapi_3_1() -> None:
    document = openapi()
    validate(document)  # raises naming the first problem
    order = document["components"]["schemas"]["Order"]
    assert order["properties"]["lines"]["items"] == {"$ref": "#/components/schemas/Line"}
    assert "Money" in document["components"]["schemas"]


def test_every_api_route_of_the_app_is_described(tmp_path: Path) -> None:
    app = make_app(Hub(default_config(tmp_path)))
    served = {
        resource.canonical
        for resource in app.router.resources()
        if resource.canonical.startswith(("/api/", "/webhooks/", "/as2/"))
    }
    described = set(openapi()["paths"])
    assert served - described == set()
