"""Connectors: one module per source or sink kind, discovered through the `orderhub.connectors` entry points."""

from __future__ import annotations

from importlib.metadata import entry_points

from orderhub.connectors.base import Connector, ConnectorSettings, NotAnOrder, WebhookVerdict

_BUILTIN = {
    "shopify": "orderhub.connectors.shopify:ShopifyConnector",
    "webhook": "orderhub.connectors.webhook:WebhookConnector",
    "files": "orderhub.connectors.files:FilesConnector",
}


def connector_kinds() -> dict[str, str]:
    """Kind -> 'module:Class'; third-party packages add kinds through the entry point group."""
    kinds = dict(_BUILTIN)
    for ep in entry_points(group="orderhub.connectors"):
        kinds.setdefault(ep.name, ep.value)
    return kinds


def connector_class(kind: str) -> type[Connector] | None:
    target = connector_kinds().get(kind)
    if target is None:
        return None
    module_name, _, attr = target.partition(":")
    module = __import__(module_name, fromlist=[attr])
    cls: type[Connector] = getattr(module, attr)
    return cls


__all__ = ["Connector", "ConnectorSettings", "NotAnOrder", "WebhookVerdict", "connector_class", "connector_kinds"]
