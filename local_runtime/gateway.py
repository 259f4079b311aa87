"""The local API Gateway: routes by the route table, does the Cognito authorizer's job (401 for a
missing or bad token, verified claims into requestContext.authorizer.claims), and hands the real
handlers real REST proxy events. Also serves /dev/token, /dev/outbox, /dev/schedules/<function> and the
API docs."""

from __future__ import annotations

import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local_runtime import api_docs, outbox, schedules
from local_runtime.auth import DevTokens, InvalidToken
from local_runtime.events import match, proxy_event
from local_runtime.lambdas import Functions
from local_runtime.openapi import render as render_openapi

MAX_BODY_BYTES = 1_000_000  # API Gateway's payload limit is 10 MB; nothing here needs more than this


class Gateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.tokens = DevTokens()
        self.functions = Functions()
        self.openapi = render_openapi().encode()


class _Handler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the handlers log in JSON already; one line per request here would drown them

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- plumbing ---------------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            if key.lower() not in ("content-length", "content-type"):
                self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, json.dumps({"error": {"code": code, "message": message}}).encode())

    def _read_body(self) -> str | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("body too large")
        return self.rfile.read(length).decode("utf-8") if length else None

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except (ValueError, UnicodeDecodeError):
            self._error(400, "malformed_request", "the body must be UTF-8 and at most 1 MB")
            return
        if (
            url.path.startswith("/dev/")
            or url.path in ("/openapi.json", "/docs", "/")
            or url.path.startswith("/docs/")
        ):
            self._local_only(method, url.path, url.query, body)
            return
        route, params, path_known = match(method, url.path)
        if route is None:
            if path_known:
                self._error(405, "method_not_allowed", "this path does not take that method")
            else:
                self._error(404, "not_found", "no such route")
            return
        claims = None
        if not route.anonymous:
            try:
                claims = self.server.tokens.verify(self.headers.get("Authorization"))
            except InvalidToken:
                self._error(401, "unauthorized", "a valid bearer token is required")
                return
        headers = {k: v for k, v in self.headers.items()}
        event = proxy_event(
            route,
            path=url.path,
            path_parameters=params,
            query=url.query,
            headers=headers,
            body=body,
            claims=claims,
            source_ip=self.client_address[0],
        )
        result = self.server.functions.invoke(route.function, event)
        payload = (result.get("body") or "").encode()
        response_headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        # Powertools' REST resolver answers headers as multiValueHeaders, which API Gateway honours too.
        for key, values in (result.get("multiValueHeaders") or {}).items():
            if values:
                response_headers.setdefault(key, str(values[-1]))
        self._send(
            int(result.get("statusCode", 502)),
            payload,
            response_headers.get("Content-Type", "application/json"),
            response_headers,
        )

    def _local_only(self, method: str, path: str, query: str, body: str | None) -> None:
        if path == "/dev/token" and method == "POST":
            try:
                request = json.loads(body or "{}")
                sub, roles = request["sub"], request.get("roles", [])
                if not isinstance(sub, str) or not sub or not isinstance(roles, list):
                    raise TypeError
                token = self.server.tokens.issue(sub, roles)
            except (ValueError, KeyError, TypeError) as error:
                self._error(422, "validation_failed", f"expected {{'sub': str, 'roles': [role...]}}: {error}")
                return
            self._send(200, json.dumps({"token": token}).encode())
        elif path == "/dev/outbox" and method == "GET":
            to = parse_qs(query).get("to", [None])[-1]
            self._send(200, json.dumps({"items": outbox.read(to)}, ensure_ascii=False, default=str).encode())
        elif path.startswith("/dev/schedules/") and method == "POST":
            # A scheduled function run now, as EventBridge Scheduler would (`rescue-nearby aeds upkeep`).
            try:
                request = json.loads(body) if body else None
                result = schedules.run(self.server.functions, path.removeprefix("/dev/schedules/"), request)
            except json.JSONDecodeError:
                self._error(400, "malformed_request", "the body must be JSON")
                return
            except schedules.ScheduleError as error:
                self._error(error.status, error.code, error.message)
                return
            self._send(200, json.dumps(result, ensure_ascii=False, default=str).encode())
        elif path == "/openapi.json" and method == "GET":
            self._send(200, self.server.openapi)
        elif path in ("/", "/docs") and method == "GET":
            status, page = api_docs.page()
            self._send(status, page, "text/html; charset=utf-8")
        elif path.startswith("/docs/") and method == "GET":
            asset = api_docs.asset(path)
            if asset is None:
                self._error(404, "not_found", "no such asset")
                return
            self._send(200, *asset)
        else:
            self._error(HTTPStatus.NOT_FOUND, "not_found", "no such route")
