"""orderhub: omnichannel order-ingestion hub."""

__version__ = "0.1.0"
