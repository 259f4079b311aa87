"""One event per Lambda instance, also when the instances are threads of one process.

Powertools' REST resolver keeps the event it is resolving on the ``BaseRouter`` class
(``BaseRouter.current_event = ...`` in ``resolve``), not on the resolver: in Lambda a process handles one
event at a time, so that is harmless. The local runtime runs concurrent instances as threads of one
process (local_runtime/lambdas.py), where two requests resolving at once would read each other's event:
another caller's claims, path or body. Here that state becomes per thread, so each thread sees its own
event, as each Lambda instance does.
"""

from __future__ import annotations

import threading
from typing import Any

_PER_REQUEST = ("current_event", "lambda_context")
_state = threading.local()


class _PerThread:
    """A data descriptor on the class: instances read and write the current thread's value."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        try:
            return getattr(_state, self.name)
        except AttributeError:
            raise AttributeError(self.name) from None

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(_state, self.name, value)


class _RouterClass:
    """Stands in for the module's ``BaseRouter`` name, which ``resolve`` assigns the event to."""

    def __init__(self, real: type) -> None:
        object.__setattr__(self, "_real", real)

    def __getattr__(self, name: str) -> Any:
        if name in _PER_REQUEST:
            return getattr(_state, name)
        return getattr(object.__getattribute__(self, "_real"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PER_REQUEST:
            setattr(_state, name, value)
        else:
            setattr(object.__getattribute__(self, "_real"), name, value)


def install() -> None:
    from aws_lambda_powertools.event_handler import api_gateway

    if isinstance(api_gateway.BaseRouter, _RouterClass):
        return
    real = api_gateway.BaseRouter
    for name in _PER_REQUEST:
        setattr(real, name, _PerThread(name))
    api_gateway.BaseRouter = _RouterClass(real)  # type: ignore[misc,assignment]
