"""Conditional writes, in one place: how a refused condition looks in pynamodb's errors. (How values
are encoded, dates as YYYY-MM-DD strings among them, is shared/dal/mapping.py's business.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError


def condition_failed(error: Exception) -> bool:
    """A single-item write refused by its condition (not a fault to retry)."""
    code = getattr(error, "cause_response_code", None)
    return code == "ConditionalCheckFailedException" or "ConditionalCheckFailed" in str(error)


def refused_by_condition(error: TransactWriteError) -> bool:
    """A transaction cancelled because one of its conditions said no (not a fault to retry)."""
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or [])


def conditionally(write: Callable[[], Any]) -> bool:
    """Run a conditional write: True if it happened, False if its condition said no."""
    try:
        write()
        return True
    except (PutError, UpdateError, DeleteError) as error:
        if condition_failed(error):
            return False
        raise
