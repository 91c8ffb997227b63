"""Who may control a run: its owner, the holder of a random token (docs/protocol.md, "Owners").

Creating a run without credentials mints a token, ``secrets.token_urlsafe(32)`` (256 random bits, 43 characters),
and answers it once; the server keeps only its SHA-256 (``run.owner``), so the database cannot hand over the
controls. Anyone else who has the run's link is a *watcher*: they see everything, change nothing.

The token travels as ``Authorization: Bearer <token>`` over HTTP (and may on the websocket handshake), or inside
websocket messages (``{"type": "auth", "token": ...}`` or a control's ``"token"``). It never appears in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

#: What a token may look like: URL-safe base64, long enough to be unguessable if random.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")

FORBIDDEN = ("only the run's owner can control it; this is a watch link "
             "(send the owner's token as 'Authorization: Bearer <token>')")


def mint() -> str:
    """A new owner token (shown to its owner once, never stored)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the server keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: object) -> bool:
    return isinstance(token, str) and TOKEN_SHAPE.fullmatch(token) is not None


def is_owner(owner: str | None, token: str | None) -> bool:
    """Whether ``token`` is the one whose digest is ``owner``. A run without an owner (made before owners
    existed) has nobody who can control it."""
    if owner is None or not well_formed(token):
        return False
    return hmac.compare_digest(owner, digest(token))  # type: ignore[arg-type]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value; None if absent or another scheme."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


_bearer = HTTPBearer(auto_error=False, scheme_name="OwnerToken",
                     description="An owner token, as returned by POST /api/runs.")

#: ``openapi_extra`` of a route where the token is optional (OpenAPI: an empty requirement satisfies it).
OPTIONAL_TOKEN = {"security": [{}]}


def presented_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str | None:
    """The bearer token of a request (None without one); 401 if it cannot be an owner token at all."""
    if credentials is None:
        return None
    if not well_formed(credentials.credentials):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this is not an owner token; omit the Authorization "
                            "header to be given a new one", headers={"WWW-Authenticate": "Bearer"})
    return credentials.credentials


TokenDep = Annotated[str | None, Depends(presented_token)]


def require_owner(owner: str | None, token: str | None) -> None:
    """403 unless ``token`` owns the run whose owner digest is ``owner``."""
    if not is_owner(owner, token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, FORBIDDEN)
