"""Local fake platform APIs (aiohttp) for the cart connectors' tests; each serves corpus payloads.

These are orderhub's own test doubles, not platform code: they follow the documented pagination,
authentication and throttling of each platform closely enough to exercise the connectors.
"""
