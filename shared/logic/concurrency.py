"""Run independent calls side by side: one round trip instead of several on the SOS path."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
# Two pools: `together` tasks may themselves call `each` and wait for it; from one shared pool, enough
# concurrent requests (one process serves them all locally) would leave every worker waiting.
_OUTER = ThreadPoolExecutor(max_workers=16, thread_name_prefix="rescue-together")
_INNER = ThreadPoolExecutor(max_workers=32, thread_name_prefix="rescue-each")


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call, wait for all; the first error is raised after all have finished."""
    futures = [_OUTER.submit(call) for call in calls]
    return [f.result() for f in futures]


def settled(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call, wait for all; each one's result or the exception it raised, in order."""
    futures = [_OUTER.submit(call) for call in calls]
    results: list[Any] = []
    for future in futures:
        try:
            results.append(future.result())
        except Exception as error:  # the caller decides what each failure means
            results.append(error)
    return results


def each(function: Callable[[T], Any], items: Iterable[T]) -> list[Any]:
    """``function`` over ``items`` in parallel; results (or exceptions, returned not raised) in order."""
    futures = [_INNER.submit(function, item) for item in items]
    results: list[Any] = []
    for future in futures:
        try:
            results.append(future.result())
        except Exception as error:  # each item's failure is its own: the others go on
            results.append(error)
    return results
