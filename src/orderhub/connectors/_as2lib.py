"""pyas2lib, loaded once, with its OpenSSL version check made to accept OpenSSL 3.0.10 and later.

pyas2lib signs and encrypts through oscrypto, whose libcrypto module (1.3.0) reads the OpenSSL
version with a pattern that allows one digit per part (`\\d\\.\\d\\.\\d`) and refuses to load on
"OpenSSL 3.0.19". Before pyas2lib is imported, that module is loaded from its own source with the
pattern widened to `\\d+`; everything else in it runs unchanged. An oscrypto without the narrow
pattern is imported as it is.

AS2 is an optional extra: without it, `load()` raises `As2Unavailable` naming the install command.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType

INSTALL_HINT = "pip install 'orderhub[as2]'"
_NARROW = r"'\\b(\\d\\.\\d\\.\\d[a-z]*)\\b'"
_WIDE = r"'\\b(\\d+\\.\\d+\\.\\d+[a-z]*)\\b'"

_lock = threading.Lock()
_loaded: ModuleType | None = None


class As2Unavailable(ImportError):
    """The `as2` extra (pyas2lib) is not installed, or its crypto library cannot be loaded."""


def load() -> ModuleType:
    """The `pyas2lib.as2` module, ready to use; the oscrypto fix is applied on the first call."""
    global _loaded
    with _lock:
        if _loaded is None:
            try:
                importlib.import_module("oscrypto")
            except ImportError as exc:
                raise As2Unavailable(f"AS2 needs the as2 extra (pyas2lib): {INSTALL_HINT}") from exc
            try:
                _widen_libcrypto_version_pattern()
                _loaded = importlib.import_module("pyas2lib.as2")
            except ImportError as exc:
                raise As2Unavailable(f"AS2 needs the as2 extra (pyas2lib): {INSTALL_HINT} ({exc})") from exc
            except Exception as exc:  # oscrypto's LibraryNotFoundError and friends
                raise As2Unavailable(f"pyas2lib cannot load its crypto library: {exc}") from exc
        return _loaded


def available() -> str | None:
    """None when AS2 can be used here; else why not (with the install command)."""
    try:
        load()
    except As2Unavailable as exc:
        return str(exc)
    return None


def _widen_libcrypto_version_pattern() -> None:
    if sys.platform in ("win32", "darwin"):  # oscrypto uses the system's own crypto there, not libcrypto
        return
    import oscrypto

    name = f"oscrypto._openssl._libcrypto_{'cffi' if oscrypto.ffi() == 'cffi' else 'ctypes'}"
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.origin is None:
        return
    get_source = getattr(spec.loader, "get_source", None)
    source = get_source(name) if get_source is not None else None
    if not isinstance(source, str) or _NARROW not in source:
        return  # a fixed oscrypto: nothing to widen
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(compile(source.replace(_NARROW, _WIDE), spec.origin, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
