"""The rescue workflow's definition (infra/statemachine/rescue.asl.json, the file CDK deploys) walked on a
simulated clock: Task states call the same logic functions the rescue_steps Lambda maps their ``action``
to, Wait states wait simulated seconds, Choice states branch on the results. A state type or path this
walker does not know raises, so a change to the workflow cannot be silently mis-simulated."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from shared.workflow import ASL_PATH

Step = Callable[[dict[str, Any], float], dict[str, Any] | None]
Schedule = Callable[[float, Callable[[float], None]], None]
# The tasks where the dispatch part of a rescue ends: waiting for its closure, or closing it.
ENDS_DISPATCH = frozenset({"park", "finish"})


def definition() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(ASL_PATH.read_text(encoding="utf-8"))
    return loaded


def read_path(data: Any, path: str) -> Any:
    """A reference path as the workflow uses them: ``$`` or ``$.a.b``."""
    if path == "$":
        return data
    if not path.startswith("$."):
        raise NotImplementedError(f"path {path!r}")
    for part in path[2:].split("."):
        data = data[part]
    return data


def write_path(data: dict[str, Any], path: str | None, value: Any) -> dict[str, Any]:
    if path is None:  # ResultPath null: the input goes on unchanged
        return data
    if path == "$":
        return dict(value)
    if not path.startswith("$.") or "." in path[2:]:
        raise NotImplementedError(f"ResultPath {path!r}")
    return {**data, path[2:]: value}


def _filled(template: Mapping[str, Any], data: Any) -> dict[str, Any]:
    return {
        (key[:-2] if key.endswith(".$") else key): (read_path(data, value) if key.endswith(".$") else value)
        for key, value in template.items()
    }


class WorkflowWalker:
    """One walker per simulated deployment: ``start`` runs an execution from the first state."""

    def __init__(
        self,
        steps: Mapping[str, Step],
        schedule: Schedule,
        on_dispatch_end: Callable[[str, float], None],
    ) -> None:
        loaded = definition()
        self._start_at: str = loaded["StartAt"]
        self._states: Mapping[str, Any] = loaded["States"]
        self._steps, self._schedule, self._on_dispatch_end = steps, schedule, on_dispatch_end

    def start(self, payload: Mapping[str, Any], at: float) -> None:
        self._run(dict(payload), self._start_at, at)

    def _resume(self, data: dict[str, Any], name: str, at: float) -> None:
        self._run(data, name, at)

    def _run(self, data: dict[str, Any], name: str | None, at: float) -> None:
        while name is not None:
            state = self._states[name]
            kind = state["Type"]
            if kind == "Wait":
                seconds = float(
                    state["Seconds"] if "Seconds" in state else read_path(data, state["SecondsPath"])
                )
                self._schedule(at + seconds, partial(self._resume, data, state["Next"]))
                return
            if kind == "Choice":
                name = _choose(state, data)
            elif kind == "Task":
                payload = state["Parameters"]["Payload"]
                if payload.get("action") in ENDS_DISPATCH:  # before its $$ (context) paths are read
                    self._on_dispatch_end(str(data["incident_id"]), at)
                    return
                event = _filled(payload, data)
                action = event["action"]
                try:
                    result = self._steps[action](event, at) or {}
                except Exception as error:
                    catch = next(
                        (c for c in state.get("Catch", ()) if "States.ALL" in c["ErrorEquals"]), None
                    )
                    if catch is None:
                        raise
                    data = write_path(data, catch.get("ResultPath", "$"), {"Error": type(error).__name__})
                    name = catch["Next"]
                    continue
                selected = (
                    _filled(state["ResultSelector"], {"Payload": result})
                    if "ResultSelector" in state
                    else {"Payload": result}
                )
                data = write_path(data, state.get("ResultPath", "$"), selected)
                name = state.get("Next")
            elif kind in ("Succeed", "Fail"):
                return
            else:
                raise NotImplementedError(f"state type {kind!r} ({name})")


def _choose(state: Mapping[str, Any], data: Any) -> str:
    for choice in state["Choices"]:
        if set(choice) != {"Variable", "BooleanEquals", "Next"}:
            raise NotImplementedError(f"choice rule {sorted(choice)}")
        if read_path(data, choice["Variable"]) is choice["BooleanEquals"]:
            return str(choice["Next"])
    return str(state["Default"])
