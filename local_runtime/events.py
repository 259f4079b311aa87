"""API Gateway REST proxy events, built the way API Gateway builds them, for the real handlers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from shared.routes import ROUTES, Route

_COMPILED = [
    (route, re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path)) + "$"))
    for route in ROUTES
]


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """(route, path parameters, path exists with another method) for a path as sent, still
    percent-encoded. Literal paths win over templates, as in API Gateway (/v1/responders/nearby before
    /v1/responders/{responder_id}); each segment is matched encoded (an encoded / stays inside its
    parameter) and the parameters come back decoded, as API Gateway passes them: /v1/aeds/x%23y gives
    {"aed_id": "x#y"}."""
    candidates = []
    path_known = False
    for route, pattern in _COMPILED:
        found = pattern.match(path)
        if found:
            path_known = True
            if route.method == method:
                params = {name: unquote(value) for name, value in found.groupdict().items()}
                candidates.append((route.path.count("{"), route, params))
    if not candidates:
        return None, {}, path_known
    _, route, params = min(candidates, key=lambda c: c[0])
    return route, params, path_known


def proxy_event(
    route: Route,
    *,
    path: str,
    path_parameters: Mapping[str, str],
    query: str,
    headers: Mapping[str, str],
    body: str | None,
    claims: Mapping[str, str] | None = None,
    authorizer: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """A REST proxy event. The caller is either ``claims`` (a Cognito user pools authorizer puts them in
    ``authorizer.claims``) or ``authorizer`` (a Lambda authorizer's principalId and context, flat)."""
    multi_query = parse_qs(query, keep_blank_values=True)
    now = datetime.now(UTC)
    request_context: dict[str, Any] = {
        "resourcePath": route.path,
        "httpMethod": route.method,
        "path": f"/local{path}",
        "stage": "local",
        "requestId": str(uuid.uuid4()),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
        "accountId": "000000000000",
        "apiId": "local",
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}
    elif authorizer is not None:
        request_context["authorizer"] = dict(authorizer)
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": route.method,
        "headers": dict(headers) or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": False,
    }
