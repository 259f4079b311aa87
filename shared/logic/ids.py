"""Identifiers: ULIDs (https://github.com/ulid/spec), 26 characters, sortable by the millisecond they
were made in, so stored events and registrations come back in the order they happened.

Made here rather than by python-ulid, whose import reads installed package metadata (about 4 ms of the
SOS function's cold start, more with a large layer on sys.path) to learn its own version.
tests/unit/test_ids.py checks these against python-ulid's reading of them."""

from __future__ import annotations

import os
import time

# Crockford's base32: no I, L, O or U.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A ULID: 48 bits of Unix time in milliseconds, then 80 random bits."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))
