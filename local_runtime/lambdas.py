"""The real Lambda handlers, run in-process the way Lambda runs them: each warm instance handles one
event at a time, and concurrent events get more instances (each a fresh import of the handler module,
so the Powertools resolver's per-request state is never shared between two requests)."""

from __future__ import annotations

import importlib
import importlib.util
import queue
import threading
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from local_runtime import iam
from shared.routes import (
    AUTHORIZER_FUNCTION,
    EVENT_FUNCTIONS,
    FUNCTIONS,
    SCHEDULED_FUNCTIONS,
    WORKFLOW_FUNCTIONS,
)

MAX_INSTANCES_PER_FUNCTION = 16


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


class FunctionPool:
    def __init__(self, name: str) -> None:
        self.name = name
        self._idle: queue.LifoQueue[ModuleType] = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    def _new_instance(self) -> ModuleType:
        if self._created == 0:
            module = importlib.import_module(f"functions.{self.name}.handler")
        else:
            base = importlib.import_module(f"functions.{self.name}.handler")
            spec = importlib.util.spec_from_file_location(
                f"{base.__name__}__instance{self._created}", base.__file__
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        self._created += 1
        return module

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            instance = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                fresh = self._new_instance() if self._created < MAX_INSTANCES_PER_FUNCTION else None
            instance = fresh if fresh is not None else self._idle.get()
        try:
            context = LambdaContext(function_name=self.name)
            with iam.acting_as(self.name):  # its role's DynamoDB permissions apply (local_runtime/iam.py)
                result: dict[str, Any] = instance.lambda_handler(event, context)
            return result
        finally:
            self._idle.put(instance)


class Functions:
    """Every function of the route table, the workflow, the schedules, the event sources and the API's
    authorizer, warmed on first use."""

    def __init__(self) -> None:
        self.pools = {
            name: FunctionPool(name)
            for name in (
                *FUNCTIONS,
                *WORKFLOW_FUNCTIONS,
                *SCHEDULED_FUNCTIONS,
                *EVENT_FUNCTIONS,
                AUTHORIZER_FUNCTION,
            )
        }

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        return self.pools[name].invoke(event)
