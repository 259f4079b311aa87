"""Page tokens of the listing routes: an index Query's LastEvaluatedKey as opaque URL-safe text, and back
again only when it has the shape this API issued (DynamoDB refuses a key of another index with a 500;
that must be a 422)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, TypeVar

from shared.errors import ValidationFailed

NOT_OURS = "next_token: not a token this API issued"

T = TypeVar("T")


def page_token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def read_token(token: str, keys: set[str]) -> dict[str, Any]:
    """The key a token holds: exactly ``keys``, each a non-empty string attribute; else ValidationFailed."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise ValidationFailed(NOT_OURS) from error
    if not (
        isinstance(key, dict)
        and set(key) == keys
        and all(
            isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"]
            for v in key.values()
        )
    ):
        raise ValidationFailed(NOT_OURS)
    return key


def one_page(results: Any, limit: int, convert: Callable[[Any], T]) -> tuple[list[T], str | None]:
    """A page of a Query made with ``limit`` + 1 (the one more tells whether another page follows, so the
    last page never comes back empty), converted item by item, and the next page's token (None: the
    last page). ``results`` is pynamodb's ResultIterator: its last evaluated key, in the middle of a
    page, is the keys of the item it last yielded."""
    items: list[T] = []
    last: dict[str, Any] | None = None
    for model in results:
        if len(items) == limit:
            return items, page_token(last or {})
        items.append(convert(model))
        last = results.last_evaluated_key
    return items, None
