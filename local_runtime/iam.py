"""The functions' DynamoDB permissions, enforced on one machine as IAM enforces them in the cloud.

moto checks no IAM, so a function whose code writes a table its role may only read works here and fails
in AWS (AccessDeniedException after its alerts went out, say). Here every DynamoDB call a function makes
is checked against what infra/constants.FUNCTION_GRANTS gives its role (the same table CDK builds the
roles from, with the same actions: infra/constructs/data.py), and refused as IAM would refuse it. Calls
made on behalf of no function (the test's set-up, the seed, the state machine's own DynamoDB task) are not
checked. A function's calls are known by the context its invocation runs in, which the local runtime
carries into the thread pools the function fans out to (as each pooled task is one of its calls)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from typing import Any

_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("local_iam_function", default=None)

# Each DynamoDB operation as the IAM actions it needs on each table it names.
_SINGLE = {
    "GetItem": "GetItem",
    "PutItem": "PutItem",
    "UpdateItem": "UpdateItem",
    "DeleteItem": "DeleteItem",
    "Query": "Query",
    "Scan": "Scan",
}
_TRANSACT_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@contextmanager
def acting_as(function: str) -> Iterator[None]:
    token = _FUNCTION.set(function)
    try:
        yield
    finally:
        _FUNCTION.reset(token)


def install() -> None:
    """Check every DynamoDB call (all clients go through BaseClient._make_api_call) and carry the calling
    function into pooled tasks. Idempotent."""
    from botocore.client import BaseClient

    client_class: Any = BaseClient
    if getattr(client_class._make_api_call, "local_iam", False):
        return
    make_api_call = client_class._make_api_call
    submit = ThreadPoolExecutor.submit

    def checked_call(client: Any, operation_name: str, api_params: Any) -> Any:
        function = _FUNCTION.get()
        if function is not None and client.meta.service_model.service_name == "dynamodb":
            refused = _refused(function, operation_name, api_params)
            if refused:
                from botocore.exceptions import ClientError

                raise ClientError(
                    {
                        "Error": {
                            "Code": "AccessDeniedException",
                            "Message": f"local IAM: {function} may not {refused} "
                            "(infra/constants.FUNCTION_GRANTS)",
                        }
                    },
                    operation_name,
                )
        return make_api_call(client, operation_name, api_params)

    def carrying_context(pool: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if _FUNCTION.get() is None:
            return submit(pool, fn, *args, **kwargs)
        return submit(pool, contextvars.copy_context().run, fn, *args, **kwargs)

    checked_call.local_iam = True  # type: ignore[attr-defined]
    client_class._make_api_call = checked_call
    ThreadPoolExecutor.submit = carrying_context  # type: ignore[method-assign,assignment]


def _refused(function: str, operation: str, params: Mapping[str, Any]) -> str | None:
    """ "<action> on <table>[/index]" that the function's role lacks, or None."""
    for action, table, index in _needs(operation, params):
        allowed = _allowed(function).get(table)
        if allowed is None or action not in (allowed[1] if index else allowed[0]):
            return f"dynamodb:{action} on {table}{'/index/' + index if index else ''}"
    return None


def _needs(operation: str, params: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    if operation in _SINGLE:
        yield _SINGLE[operation], params["TableName"], params.get("IndexName")
    elif operation == "TransactWriteItems":
        for item in params["TransactItems"]:
            for part, request in item.items():
                yield _TRANSACT_PARTS[part], request["TableName"], None
    elif operation == "TransactGetItems":
        for item in params["TransactItems"]:
            yield "GetItem", item["Get"]["TableName"], None
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        action = "BatchGetItem" if operation == "BatchGetItem" else "BatchWriteItem"
        for table in params["RequestItems"]:
            yield action, table, None
    # DescribeTable, CreateTable...: not a function's business here (tables exist before functions run)


@cache
def _grants() -> dict[str, dict[str, tuple[frozenset[str], frozenset[str]]]]:
    """function -> table name -> (actions on the table, actions on its indexes), as CDK grants them."""
    from infra import constants as c

    def names(actions: tuple[str, ...]) -> frozenset[str]:
        return frozenset(action.removeprefix("dynamodb:") for action in actions)

    def allowed(access: c.Access) -> tuple[frozenset[str], frozenset[str]]:
        return names(c.TABLE_ACTIONS[access]), frozenset() if access == c.UPDATE else names(c.INDEX_ACTIONS)

    return {
        name: {model.Meta.table_name: allowed(access) for model, access in grants.tables.items()}
        for name, grants in c.FUNCTION_GRANTS.items()
    }


def _allowed(function: str) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    return _grants().get(function, {})
