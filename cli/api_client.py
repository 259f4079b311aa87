"""A small client of the Rescue Nearby API on the standard library (urllib), so the command needs nothing
beyond the platform's own packages.

Retries with exponential backoff on 429, 5xx and connection errors; raises ApiUnreachable when the API
cannot be reached (after the retries), AuthRefused on 401/403, ApiError on any other error answer.
Other commands (cli/aeds_coverage.py, cli/aeds_upkeep.py) use ``add_api_options`` and ``connect``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

DEFAULT_API_URL = "http://127.0.0.1:8080"
TOKEN_ENV = "RESCUE_NEARBY_TOKEN"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class ApiUnreachable(Exception):
    pass


class AuthRefused(Exception):
    pass


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout_s: float = 60.0,
        attempts: int = 5,
        backoff_s: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s

    def get(self, path: str, query: dict[str, Any] | None = None) -> Any:
        suffix = f"?{urlencode(query, doseq=True)}" if query else ""
        return self.request("GET", path + suffix)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """``body`` sent as JSON, or ``raw`` as it is (bytes someone signed); ``headers`` added."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        if raw is not None:
            data = raw.encode("utf-8")
        headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = self.base_url + path
        last_problem = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                    text = reply.read().decode("utf-8")
                    return json.loads(text) if text else None
            except urllib.error.HTTPError as error:
                status = error.code
                code, message = _error_of(error.read())
                if status in (401, 403):
                    raise AuthRefused(f"{method} {path}: {status} {code}: {message}") from error
                if status == 429 or status >= 500:
                    last_problem = f"{status} {code}: {message}"
                    continue
                raise ApiError(status, code, message) from error
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                reason = getattr(error, "reason", error)
                last_problem = f"cannot connect: {reason}"
                continue
        raise ApiUnreachable(f"{method} {url}: {last_problem} (after {self.attempts} attempts)")


def _error_of(body: bytes) -> tuple[str, str]:
    try:
        error = json.loads(body.decode("utf-8"))["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "error", body[:200].decode("utf-8", "replace")


def is_local(api_url: str) -> bool:
    return (urlsplit(api_url).hostname or "") in LOCAL_HOSTS


def add_api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url", default=DEFAULT_API_URL, help=f"the API (default {DEFAULT_API_URL}, the local runtime)"
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"bearer token (or ${TOKEN_ENV}); required for a deployed API, made for you locally",
    )


def connect(args: argparse.Namespace, *, sub: str, roles: list[str]) -> ApiClient:
    """A client for --api-url with --token, or, against the local runtime without one, a token from its
    /dev/token for ``sub`` with ``roles``. Raises AuthRefused when no token can be had."""
    if args.token:
        return ApiClient(args.api_url, args.token)
    if not is_local(args.api_url):
        raise AuthRefused(f"--token is required for {args.api_url} (only the local runtime makes tokens)")
    anonymous = ApiClient(args.api_url)
    try:
        answer = anonymous.post("/dev/token", {"sub": sub, "roles": roles})
    except ApiError as error:
        raise AuthRefused(
            f"{args.api_url} made no token ({error.status} {error.code}): is it the local runtime? "
            "Pass --token otherwise"
        ) from error
    return ApiClient(args.api_url, str(answer["token"]))
