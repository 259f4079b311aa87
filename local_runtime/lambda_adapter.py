"""Step Functions' Lambda tasks, run in-process: moto would start a Docker container for each
invocation; here the function's real handler module runs instead (the same pool the gateway uses).

In the cloud a task runs on Lambda's machines; here it shares one process (and one GIL) with the gateway.
So, as the stream pollers do (local_runtime/pollers.py), a task waits for a moment with no request being
served, at most YIELD_AT_MOST_S: the SOS that starts a rescue's execution answers before the execution's
first step competes with it. What the task does is unchanged; it begins a little later."""

from __future__ import annotations

import json
import traceback
from typing import Any

from local_runtime import pollers
from local_runtime.lambdas import Functions

FUNCTION_PREFIX = "rescue-nearby-"
_functions = Functions()


def function_name(module: str) -> str:
    """The moto Lambda name of a functions/<module> handler: rescue_steps → rescue-nearby-rescue-steps."""
    return FUNCTION_PREFIX + module.replace("_", "-")


def invoke(module: str, event: dict[str, Any]) -> dict[str, Any]:
    """The function's real handler on this event (the pollers' way in, as the workflow's tasks')."""
    return _functions.invoke(module, event)


def install() -> None:
    from moto.awslambda.models import LambdaFunction

    def invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
        module = self.function_name[len(FUNCTION_PREFIX) :].replace("-", "_")
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        pollers.REQUESTS.wait_idle(pollers.YIELD_AT_MOST_S)
        try:
            result = _functions.invoke(module, payload)
        except Exception as error:  # as Lambda reports a function error: type and message
            return (
                json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}),
                True,
                traceback.format_exc(),
            )
        return json.dumps(result, default=str), False, ""

    LambdaFunction._invoke_lambda = invoke_in_process  # type: ignore[method-assign]
