"""Stable pseudonymous annotator ids: ``ann-`` + 16 hex digits of an HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["pseudonym"]


def pseudonym(*, key: bytes, project_id: int, name: str) -> str:
    """The export id of annotator ``name`` in project ``project_id``.

    HMAC-SHA256 keyed by ``key`` of the project id and the name: the same annotator gets
    the same id in every export of the project while the key stays the same, different
    ids in different projects, and the name cannot be recovered without the key (64 bits
    make a collision among a project's annotators practically impossible).

    Examples
    --------
    >>> pseudonym(key=b"k", project_id=1, name="alice")
    'ann-2e3e58e38d2908db'
    """
    message = f"{project_id}\x00{name}".encode()
    return "ann-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:16]
