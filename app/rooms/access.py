"""Who may do what in a room: join codes, presenter tokens, passwords, participant ids.

* The **join code** is six characters from an alphabet without look-alikes (32⁶ ≈ 10⁹ codes); it is the room's
  key and sits in the join URL. Nothing secret is in that URL.
* The **presenter token** is minted like a run's owner token (app/owners.py) and kept only as its SHA-256. It
  travels as ``Authorization: Bearer`` or in the ``creditlab_presenter_<code>`` cookie (HttpOnly, SameSite=Strict),
  never in a URL.
* A **password** is kept as ``salt$PBKDF2-SHA256``. Whoever gives it gets an admission cookie
  ``creditlab_room_<code>`` = HMAC(stored hash, participant): checkable after a restart, useless for another
  participant or room, and it reveals nothing of the password.
* A **participant** is an anonymous random id in the ``creditlab_participant`` cookie, made on first contact.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from app.owners import digest, is_owner, mint  # noqa: F401  (the same token scheme as runs)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_SHAPE = re.compile(rf"[{CODE_ALPHABET}]{{6}}")
PARTICIPANT_COOKIE = "creditlab_participant"
PARTICIPANT_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_ITERATIONS = 60_000


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def presenter_cookie(code: str) -> str:
    return f"creditlab_presenter_{code}"


def admission_cookie(code: str) -> str:
    return f"creditlab_room_{code}"


def new_participant() -> str:
    return secrets.token_urlsafe(18)


def valid_participant(value: str | None) -> bool:
    return value is not None and PARTICIPANT_SHAPE.fullmatch(value) is not None


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    return f"{salt}${hashlib.pbkdf2_hmac('sha256', password.encode(), bytes.fromhex(salt), _ITERATIONS).hex()}"


def check_password(stored: str, password: str | None) -> bool:
    if password is None:
        return False
    salt, _, want = stored.partition("$")
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _ITERATIONS).hex()
    return hmac.compare_digest(got, want)


def admission(stored: str, participant: str) -> str:
    """The admission cookie's value for ``participant`` in a room whose password hash is ``stored``."""
    return hmac.new(stored.encode(), participant.encode(), hashlib.sha256).hexdigest()


def admitted(stored: str | None, participant: str | None, cookie: str | None) -> bool:
    if stored is None:
        return True
    if participant is None or cookie is None:
        return False
    return hmac.compare_digest(admission(stored, participant), cookie)
