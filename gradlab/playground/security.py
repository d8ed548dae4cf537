"""Who may use the playground: the WebSocket ``Origin`` check and the host names answered when bound to loopback.

A page on another website (or another local port) can open a WebSocket to ``127.0.0.1`` from the user's browser;
the browser then sends that page's ``Origin``, which :func:`origin_allowed` refuses unless it is the playground's
own origin or on the allow-list. DNS rebinding reaches the HTTP routes under a foreign host name; a server bound to
loopback therefore answers only loopback names (:func:`allowed_hosts`, enforced by Starlette's
``TrustedHostMiddleware``).

>>> origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000")
True
>>> origin_allowed("http://evil.example", "127.0.0.1:8000"), origin_allowed("null", "127.0.0.1:8000")
(False, False)
>>> origin_allowed("https://play.example.org", "10.0.0.5:8000", ["https://play.example.org"])
True
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

__all__ = ["origin_allowed", "normalise_origin", "allowed_hosts", "is_loopback", "LOOPBACK_NAMES"]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")


def normalise_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case with default ports dropped; None if it is not such an origin.

    >>> normalise_origin("HTTP://LocalHost:80/"), normalise_origin("null"), normalise_origin("file:///x")
    ('http://localhost', None, None)
    """
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 80 if parts.scheme == "http" else 443
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def origin_allowed(origin: str | None, host_header: str | None, allow: Sequence[str] = (),
                   scheme: str = "http") -> bool:
    """May a WebSocket with this ``Origin`` header use the server reached as ``scheme://host_header``?

    Yes when there is no Origin (not a browser: browsers always send one), when it is the page's own origin (same
    scheme, host and port as the request; ``scheme`` is ``http`` or ``https``), when it is on ``allow`` (origins
    such as ``https://example.org``), or when
    ``allow`` contains ``*``. ``null`` (sandboxed frames, files) and anything unparsable are refused.

    >>> origin_allowed(None, "127.0.0.1:8000")  # not a browser
    True
    >>> origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", scheme="https")  # another scheme: another origin
    False
    >>> origin_allowed("https://anywhere.example", "10.0.0.5:8000", ["*"])
    True
    """
    if origin is None:
        return True
    if "*" in allow:
        return True
    norm = normalise_origin(origin)
    if norm is None:
        return False
    if norm in {normalise_origin(a) for a in allow}:
        return True
    if not host_header:
        return False
    return bool(host_header) and norm == normalise_origin(f"{scheme}://{host_header}")


def is_loopback(host: str) -> bool:
    """Is ``host`` (a bind address or name) this machine only?

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind_host: str, extra: Sequence[str] = ()) -> list[str] | None:
    """The ``Host`` names to answer: loopback names (plus ``extra``) for a loopback bind address; for any other
    address ``extra`` if given, else None (any host: a deliberate public deployment).

    >>> allowed_hosts("127.0.0.1")
    ['127.0.0.1', 'localhost', '[::1]', '::1']
    >>> allowed_hosts("0.0.0.0") is None, allowed_hosts("0.0.0.0", ["play.example.org"])
    (True, ['play.example.org'])
    """
    if is_loopback(bind_host):
        return [*LOOPBACK_NAMES, *extra]
    return list(extra) or None
