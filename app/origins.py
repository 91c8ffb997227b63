"""Which web pages may open a websocket to this server: the browser names the page in the ``Origin`` header.

Cookies are not involved, but a websocket is not bound by the same-origin policy either: without this check any
page a student opens could connect to the lab on the classroom network and watch or drive runs. A handshake is
accepted when it carries no ``Origin`` (not a browser: scripts, tests), when the origin is this server's own host
(the ``Host`` the browser connected to: same host name, and same port when the Host header names one), or when it is listed in the ``allowed_origins`` setting.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORT = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _host_port(netloc: str, scheme: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port if parts.port is not None else _DEFAULT_PORT.get(scheme)
    except ValueError:
        return None
    return (parts.hostname or "").lower(), port


def normalise(origin: str) -> str:
    """``scheme://host[:port]`` in lower case without a default port (how allow-list entries are compared)."""
    parts = urlsplit(origin.strip().lower())
    try:
        port = parts.port
    except ValueError:
        return origin.strip().lower()
    if port is None or port == _DEFAULT_PORT.get(parts.scheme):
        return f"{parts.scheme}://{parts.hostname or ''}"
    return f"{parts.scheme}://{parts.hostname or ''}:{port}"


def origin_allowed(origin: str | None, host: str | None, scheme: str, allowed: list[str]) -> bool:
    """Whether a websocket handshake from page ``origin`` to ``host`` (the Host header; ``scheme`` ws or wss)
    may go ahead."""
    if origin is None:
        return True
    if normalise(origin) in {normalise(a) for a in allowed}:
        return True
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or host is None:
        return False  # "null" (sandboxed frames, files) and anything odd
    mine, theirs = _host_port(host, scheme), _host_port(parts.netloc, parts.scheme)
    if mine is None or theirs is None or mine[0] != theirs[0]:
        return False
    # the port counts only when Host names one: behind a TLS proxy the Host may say "lab.example" for wss
    return ":" not in host.rsplit("]", 1)[-1] or mine[1] == theirs[1]
