"""Loopback stand-ins for the China profile's providers (Alibaba Cloud SMS, Tencent Cloud SMS, JPush).

Each one speaks its provider's real HTTP API on 127.0.0.1, so the functions use the providers' own SDK
clients unchanged: it checks the request's signature with the credentials the local runtime put in its
Secrets Manager, answers in the provider's own format, and returns the provider's own error codes when a
test (or a person, through /dev/providers/fail) asks for them. What each one accepted lands in ``LOG``,
which /dev/outbox reads."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


@dataclass(frozen=True)
class Delivered:
    """One message a provider accepted."""

    provider: str  # "alibaba-sms", "tencent-sms", "jpush"
    channel: str  # "sms" or "push"
    to: str  # the phone number (E.164) or the push registration id
    template: str | None  # the platform's template id (shared/logic/messages.py), when one was used
    params: Mapping[str, str]  # its variables
    text: str  # what the person sees: the signature and the rendered template, or the push's text
    data: Mapping[str, str] = field(default_factory=dict)  # a push's extras
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class _Failure:
    provider: str
    code: str
    to: str | None
    times: int


class ProviderLog:
    """What the stand-ins accepted, and the failures asked of them (thread-safe: the gateway and the
    workflow call providers from several threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._delivered: list[Delivered] = []
        self._failures: list[_Failure] = []

    def add(self, delivered: Delivered) -> None:
        with self._lock:
            self._delivered.append(delivered)

    def items(self) -> list[Delivered]:
        with self._lock:
            return list(self._delivered)

    def fail_next(self, provider: str, code: str, *, times: int = 1, to: str | None = None) -> None:
        """The next ``times`` requests to ``provider`` (for ``to`` only, if given) fail with the
        provider's error ``code``."""
        with self._lock:
            self._failures.append(_Failure(provider, code, to, times))

    def take_failure(self, provider: str, to: str | None) -> str | None:
        """The error code this request must fail with, if one was asked for (used up once taken)."""
        with self._lock:
            for position, failure in enumerate(self._failures):
                if failure.provider == provider and failure.to in (None, to):
                    if failure.times <= 1:
                        del self._failures[position]
                    else:
                        self._failures[position] = _Failure(
                            provider, failure.code, failure.to, failure.times - 1
                        )
                    return failure.code
            return None

    def clear(self) -> None:
        with self._lock:
            self._delivered.clear()
            self._failures.clear()


LOG = ProviderLog()


def approved_templates(template_codes: Mapping[str, str], code_name: str) -> dict[str, str]:
    """A stand-in's approved templates: provider code -> the catalog's template id, from the deployment's
    SMS_TEMPLATES mapping (template id -> code), which must name catalog templates and no code twice."""
    from shared.logic.messages import TEMPLATES

    unknown = sorted(set(template_codes) - set(TEMPLATES))
    if unknown:
        raise ValueError(f"not templates of the catalog: {unknown}")
    approved = {code: template_id for template_id, code in template_codes.items()}
    if len(approved) != len(template_codes):
        raise ValueError(f"two templates share a {code_name}")
    return approved


PROVIDERS = frozenset({"alibaba-sms", "tencent-sms", "jpush"})  # the names the stand-ins log under


def fail_on_demand(request: object) -> dict[str, object]:
    """POST /dev/providers/fail: ``{"provider", "code", "to"?, "times"?}`` makes the next ``times``
    requests to that provider (for ``to`` only, if given) fail with the provider's error ``code``."""
    shape = f"expected {{provider: one of {sorted(PROVIDERS)}, code: str, to?: str, times?: 1..100}}"
    if not isinstance(request, dict):
        raise ValueError(shape)
    provider, code = request.get("provider"), request.get("code")
    to, times = request.get("to"), request.get("times", 1)
    if (
        provider not in PROVIDERS
        or not isinstance(code, str)
        or not code
        or not (to is None or isinstance(to, str))
        or type(times) is not int
        or not 1 <= times <= 100
    ):
        raise ValueError(shape)
    LOG.fail_next(str(provider), code, times=times, to=to)
    return {"provider": provider, "code": code, "to": to, "times": times}


@dataclass
class Serving:
    url: str  # http://127.0.0.1:<port>
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def host(self) -> str:
        """host:port, as SDKs that take an endpoint without a scheme want it."""
        return self.url.removeprefix("http://")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Quiet(WSGIRequestHandler):
    """No line per request: /dev/outbox shows what the providers took, and the runtime's log stays
    readable."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def serve(app: WSGIApplication, name: str) -> Serving:
    """Serve ``app`` on a free loopback port, in a daemon thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return Serving(f"http://127.0.0.1:{server.server_port}", server, thread)
