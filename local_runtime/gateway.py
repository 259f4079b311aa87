"""The local API Gateway: routes by the route table, calls the real authorizer (functions/authorizer)
before every non-anonymous route (401 when it refuses), and hands the real handlers real REST proxy
events with the caller where the profile's authorizer puts it: the global profile's Cognito authorizer
in ``requestContext.authorizer.claims``, the cn profile's Lambda authorizer flat in
``requestContext.authorizer``. Tokens come from the local OIDC issuer (local_runtime/auth.py), whose
JWKS this gateway serves. Also serves /dev/token, /dev/outbox, /dev/schedules/<function>, the API
docs and the web pages (local_runtime/pages.py).

HTTP is werkzeug's threaded WSGI server (installed with moto[server]), not a hand-written one. Like API
Gateway it takes a body by Content-Length or chunked, refuses a Content-Length that is not a plain number
(400) or a body over the cap (413), and never reads a request out of a body: werkzeug answers every
request with `Connection: close` and discards whatever the client sent after it, so bytes left in an
over-long or refused body are never parsed as a request. Path parameters reach the handlers decoded, the
event's `path` stays percent-encoded, as API Gateway's REST proxy events have them
(local_runtime/events.py)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import socket
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, select_address_family
from werkzeug.wrappers import Request, Response

from local_runtime import api_docs, outbox, pages, pollers, schedules
from local_runtime.auth import DISCOVERY_PATH, ISSUER_PATH, JWKS_PATH, LocalIssuer
from local_runtime.events import match, proxy_event
from local_runtime.lambdas import Functions
from local_runtime.openapi import render as render_openapi
from local_runtime.providers import fail_on_demand
from shared.config import settings
from shared.routes import AUTHORIZER_FUNCTION, Route

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

MAX_BODY_BYTES = 1_000_000  # API Gateway's payload limit is 10 MB; nothing here needs more than this
IDLE_TIMEOUT_S = 30  # a client that stops sending (or never closes) frees its thread after this
LISTEN_BACKLOG = 128  # connections waiting to be accepted: 50 at once is an ordinary burst
_WIRE = "rescue_nearby.wire"  # the environ key of the request as it came over the wire
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class _Wire:
    """What WSGI's environ loses: the request target still percent-encoded (API Gateway routes on it
    and puts it in the event's `path`), the headers as sent (names in the client's case, repeats kept)."""

    target: str
    headers: list[tuple[str, str]]

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name]


class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        # http.server decodes the request line as Latin-1; a client that sends raw UTF-8 means UTF-8.
        target = self.path.encode("latin-1").decode("utf-8", "replace")
        environ[_WIRE] = _Wire(target=target, headers=list(self.headers.items()))
        return environ

    # The handlers log in JSON already; one line per request here would drown them.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _AuthorizerFailure(Exception):
    pass


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Gateway(ThreadedWSGIServer):
    """`Gateway(host, port)`, then `serve_forever()` in a thread; `shutdown()` and `server_close()` stop
    it. Port 0 takes a free port (`server_address[1]`). A port in use raises OSError."""

    def __init__(self, host: str, port: int) -> None:
        self.functions = Functions()
        self.openapi = render_openapi().encode()
        # Bound here rather than by werkzeug, which prints and exits the process when it cannot bind.
        listening = socket.create_server(
            (host, port), family=select_address_family(host, port), backlog=LISTEN_BACKLOG
        )
        try:
            super().__init__(host, port, self.wsgi_app, handler=_RequestHandler, fd=listening.fileno())
        finally:
            listening.close()  # werkzeug listens on its own duplicate of the socket
        self.profile = settings().profile
        self.issuer = LocalIssuer(f"http://127.0.0.1:{self.server_address[1]}{ISSUER_PATH}", self.profile)
        # The authorizer trusts this issuer, as a cn deployment's trusts its OIDC issuer (settings are
        # read again: they were read before the port was known).
        os.environ.update(self.issuer.authorizer_environment())
        settings.cache_clear()

    # -- the WSGI application -----------------------------------------------------------------------
    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            with pollers.REQUESTS.serving():  # the stream and queue pollers wait meanwhile
                response = self._respond(request, environ[_WIRE])
        except (ConnectionError, TimeoutError):
            raise  # the client is gone: werkzeug drops the connection quietly
        except Exception:
            traceback.print_exc()
            response = _error(500, "internal_error", "internal error")
        return response(environ, start_response)

    def _respond(self, request: Request, wire: _Wire) -> Response:
        url = urlsplit(wire.target)
        try:
            body = _read_body(request, wire)
        except _Refused as refused:
            return _error(refused.status, refused.code, refused.message)
        if (
            url.path.startswith(("/dev/", "/docs/"))
            or url.path in ("/openapi.json", "/docs")
            or not url.path.startswith("/v1/")  # the web pages (local_runtime/pages.py)
        ):
            return self._local_only(request.method, url.path, url.query, body)
        route, params, path_known = match(request.method, url.path)
        if route is None:
            if path_known:
                return _error(405, "method_not_allowed", "this path does not take that method")
            return _error(404, "not_found", "no such route")
        headers = dict(wire.headers)
        caller: dict[str, Any] = {}
        if not route.anonymous:
            authorization = wire.values("authorization")
            try:
                allowed = self._authorize(route, url.path, authorization[0] if authorization else None)
            except _AuthorizerFailure:  # API Gateway's AUTHORIZER_FAILURE response (infra/constructs/api.py)
                return _error(500, "internal_error", "internal error")
            if allowed is None:
                return _error(401, "unauthorized", "a valid bearer token is required")
            caller = allowed
        event = proxy_event(
            route,
            path=url.path,
            path_parameters=params,
            query=url.query,
            headers=headers,
            body=body,
            source_ip=request.remote_addr or "127.0.0.1",
            **caller,
        )
        result = self.functions.invoke(route.function, event)
        payload = (result.get("body") or "").encode()
        response_headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        # Powertools' REST resolver answers headers as multiValueHeaders, which API Gateway honours too.
        for key, values in (result.get("multiValueHeaders") or {}).items():
            if values:
                response_headers.setdefault(key, str(values[-1]))
        return _send(
            int(result.get("statusCode", 502)),
            payload,
            response_headers.get("Content-Type", "application/json"),
            response_headers,
        )

    def _authorize(self, route: Route, path: str, authorization: str | None) -> dict[str, Any] | None:
        """API Gateway's part: call the authorizer with a TOKEN event, honour its policy for this method,
        and put its answer where the profile's authorizer would. None when refused (a 401)."""
        method_arn = f"arn:aws:execute-api:{settings().region}:000000000000:local/local/{route.method}{path}"
        event = {"type": "TOKEN", "authorizationToken": authorization or "", "methodArn": method_arn}
        try:
            answer = self.functions.invoke(AUTHORIZER_FUNCTION, event)
        except Exception as error:
            if str(error) == "Unauthorized":  # API Gateway's 401; anything else the authorizer raised, a 500
                return None
            raise _AuthorizerFailure from error
        statements = answer.get("policyDocument", {}).get("Statement", [])
        if not any(
            s.get("Effect") == "Allow" and fnmatch.fnmatchcase(method_arn, str(s.get("Resource")))
            for s in statements
        ):
            return None
        context = {str(k): str(v) for k, v in (answer.get("context") or {}).items()}
        if self.profile == "global":  # the Cognito user pools authorizer's shape
            claims = {"sub": context["sub"], "token_use": "id"}
            if context.get("groups"):
                claims["cognito:groups"] = context["groups"]
            return {"claims": claims}
        return {"authorizer": {"principalId": str(answer.get("principalId")), **context}}

    def _local_only(self, method: str, path: str, query: str, body: str | None) -> Response:
        if path == "/dev/token" and method == "POST":
            try:
                request = json.loads(body or "{}")
                sub, roles = request["sub"], request.get("roles", [])
                if not isinstance(sub, str) or not sub or not isinstance(roles, list):
                    raise TypeError
                token = self.issuer.issue(sub, roles)
            except (ValueError, KeyError, TypeError) as error:
                expected = "expected {'sub': str, 'roles': [role...]}"
                return _error(422, "validation_failed", f"{expected}: {error}")
            return _send(200, json.dumps({"token": token}).encode())
        if path == JWKS_PATH and method == "GET":
            return _send(200, json.dumps(self.issuer.jwks()).encode())
        if path == DISCOVERY_PATH and method == "GET":
            return _send(200, json.dumps(self.issuer.discovery()).encode())
        if path == "/dev/providers/fail" and method == "POST":
            # The cn profile's provider stand-ins answer with the provider's own error code, on demand.
            try:
                asked = fail_on_demand(json.loads(body or "{}"))
            except ValueError as error:
                return _error(422, "validation_failed", str(error))
            return _send(200, json.dumps(asked).encode())
        if path == "/dev/outbox" and method == "GET":
            to = parse_qs(query).get("to", [None])[-1]
            items = outbox.read(to)
            return _send(200, json.dumps({"items": items}, ensure_ascii=False, default=str).encode())
        if path.startswith("/dev/schedules/") and method == "POST":
            # A scheduled function run now, as EventBridge Scheduler would (`rescue-nearby aeds upkeep`).
            try:
                request = json.loads(body) if body else None
                result = schedules.run(self.functions, path.removeprefix("/dev/schedules/"), request)
            except json.JSONDecodeError:
                return _error(400, "malformed_request", "the body must be JSON")
            except schedules.ScheduleError as error:
                return _error(error.status, error.code, error.message)
            return _send(200, json.dumps(result, ensure_ascii=False, default=str).encode())
        if path == "/openapi.json" and method == "GET":
            return _send(200, self.openapi)
        if method in ("GET", "HEAD") and (served := pages.serve(path)) is not None:
            status, content, kind, headers = served
            return _send(status, content, kind, headers)
        if path == "/docs" and method == "GET":
            status, page = api_docs.page()
            return _send(status, page, "text/html; charset=utf-8")
        if path.startswith("/docs/") and method == "GET":
            asset = api_docs.asset(path)
            if asset is None:
                return _error(404, "not_found", "no such asset")
            return _send(200, *asset)
        return _error(HTTPStatus.NOT_FOUND, "not_found", "no such route")


# -- plumbing -------------------------------------------------------------------------------------
def _send(
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    try:
        reason = HTTPStatus(status).phrase  # "202 Accepted", as API Gateway words it
    except ValueError:
        reason = "Unknown"
    response = Response(body, status=f"{int(status)} {reason}", headers=[("Content-Type", content_type)])
    for key, value in (headers or {}).items():
        if key.lower() not in ("content-length", "content-type"):
            response.headers[key] = value
    return response


def _error(status: int, code: str, message: str) -> Response:
    return _send(status, json.dumps({"error": {"code": code, "message": message}}).encode())


def _read_body(request: Request, wire: _Wire) -> str | None:
    """The body, framed as API Gateway frames it: by one plain Content-Length or by chunked
    Transfer-Encoding (not both), at most MAX_BODY_BYTES, UTF-8."""
    lengths = wire.values("content-length")
    encodings = wire.values("transfer-encoding")
    stream: IO[bytes] = request.input_stream
    if encodings:
        codings = [c.strip().lower() for value in encodings for c in value.split(",") if c.strip()]
        if codings != ["chunked"] or not request.environ.get("wsgi.input_terminated"):
            raise _Refused(501, "not_implemented", "the only transfer coding taken is chunked")
        if lengths:
            raise _Refused(400, "malformed_request", "Content-Length and chunked together are ambiguous")
        data = _read_up_to(stream, MAX_BODY_BYTES + 1)
    elif lengths:
        if len(lengths) > 1 or not _DIGITS.fullmatch(lengths[0].strip(" \t")):
            raise _Refused(400, "malformed_request", "Content-Length must be one non-negative number")
        length = int(lengths[0].strip(" \t"))
        if length > MAX_BODY_BYTES:
            raise _Refused(413, "payload_too_large", "the body must be at most 1 MB")
        data = _read_up_to(stream, length)
        if len(data) < length:
            raise _Refused(400, "malformed_request", "the body ended before its Content-Length")
    else:
        return None  # no body: nothing is read, whatever follows the headers
    if len(data) > MAX_BODY_BYTES:
        raise _Refused(413, "payload_too_large", "the body must be at most 1 MB")
    try:
        return data.decode("utf-8") if data else None
    except UnicodeDecodeError:
        raise _Refused(400, "malformed_request", "the body must be UTF-8") from None


def _read_up_to(stream: IO[bytes], limit: int) -> bytes:
    out = bytearray()
    try:
        while len(out) < limit:
            piece = stream.read(min(limit - len(out), 1 << 16))
            if not piece:
                break
            out += piece
    except (ConnectionError, TimeoutError):
        raise
    except OSError as error:  # werkzeug's chunked reader: a malformed chunk
        raise _Refused(400, "malformed_request", f"the chunked body could not be read: {error}") from None
    return bytes(out)
