"""JPush's REST API v3 on loopback, as JPush's own SDK calls it once its host is pointed here
(shared/messaging/jpush.py, ``endpoint``): the push API (POST /v3/push) and the device API
(GET/POST /v3/devices/{registration_id}).

It checks HTTP Basic auth against the app key and master secret it was built with, checks the push's
shape (platform, audience.registration_id, notification, options), and answers as JPush does: {"sendno",
"msg_id"}, or {"error": {"code", "message"}} with JPush's code and HTTP status (rest_api_v3_push, 调用返回;
rest_api_v3_device). A registration id is known once a phone "installs the app" (``register_device``) or
the app registers it through the device API; a push to no known install is JPush's 1011."""

from __future__ import annotations

import hmac
import itertools
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local_runtime.providers import LOG, Delivered, Serving, serve

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PROVIDER = "jpush"

# JPush's error codes, each with the HTTP status and message JPush sends it with.
_ERRORS: dict[int, tuple[int, str]] = {
    1000: (500, "Server internal error"),
    1001: (405, "Only support HTTP POST method"),
    1002: (400, "Missing parameter"),
    1003: (400, "Parameter value is invalid"),
    1004: (401, "Authen failed"),
    1005: (400, "Message is too long"),
    1008: (400, "Invalid app_key"),
    1009: (400, "Unsupported key in the push object"),
    1011: (400, "cannot find user by this audience or has been inactive for more than 255 days"),
    1012: (400, "The push exceeds the limit"),
    1030: (503, "Internal service timeout"),
    2002: (429, "Rate limit exceeded"),
    2003: (403, "The appKey is in black list."),
    2004: (403, "No permission for this operation"),
    2005: (403, "Message sending volume out of range"),
    7000: (500, "Internal error"),
    7001: (401, "Auth info is empty"),
    7002: (400, "Invalid request parameter"),
    7004: (401, "Authentication failed"),
    7030: (503, "System is busy, try again later"),
}
_PUSH_KEYS = frozenset(
    {"platform", "audience", "notification", "message", "options", "cid", "sms_message", "callback"}
)
_PLATFORMS = frozenset({"android", "ios", "hmos", "quickapp", "winphone"})
_OPTIONS = frozenset(
    {
        "sendno",
        "time_to_live",
        "override_msg_id",
        "apns_production",
        "apns_collapse_id",
        "big_push_duration",
        "third_party_channel",
        "classification",
    }
)
_MAX_TIME_TO_LIVE_S = 10 * 86400
_REGISTRATION_ID = re.compile(r"[0-9A-Za-z]{8,64}")


class JpushStandIn:
    """A WSGI app answering as JPush for one app (``app_key``, ``master_secret``)."""

    def __init__(self, app_key: str, master_secret: str) -> None:
        self.app_key = app_key
        self.master_secret = master_secret
        # The push objects JPush accepted, as sent: what a test reads to check the adapter's payload.
        self.pushes: list[dict[str, Any]] = []
        self._aliases: dict[str, str | None] = {}  # known registration ids, and each one's alias
        self._lock = threading.Lock()
        self._message_ids = itertools.count(18_100_000_000_000_000)
        self._routes = Map(
            [
                Rule("/v3/push", endpoint="push", methods=["POST"]),
                Rule("/v3/devices/<registration_id>", endpoint="device", methods=["GET", "POST"]),
            ]
        )

    def register_device(self, registration_id: str) -> None:
        """A phone installed the app: its JPush SDK registered, so pushes to this id now reach it."""
        with self._lock:
            self._aliases.setdefault(registration_id, None)

    def alias(self, registration_id: str) -> str | None:
        with self._lock:
            return self._aliases.get(registration_id)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        try:
            endpoint, arguments = self._routes.bind_to_environ(request.environ).match()
        except MethodNotAllowed:
            return _error(1001)
        except NotFound:
            return Response("Not Found", status=404)
        if endpoint == "push":
            return self._authorized(request, 1004) or self._push(request)
        return self._authorized(request, 7004) or self._device(request, arguments["registration_id"])

    def _authorized(self, request: Request, failed_code: int) -> Response | None:
        """None when the Basic credentials are this app's; else JPush's 401."""
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return _error(failed_code)
        key_ok = hmac.compare_digest((auth.username or "").encode(), self.app_key.encode())
        secret_ok = hmac.compare_digest((auth.password or "").encode(), self.master_secret.encode())
        return None if key_ok and secret_ok else _error(failed_code)

    def _push(self, request: Request) -> Response:
        payload = request.get_json(force=True, silent=True)  # the SDK's content type is not quite JSON's
        if not isinstance(payload, dict):
            return _error(1003, "the push object is not a JSON object")
        problem = _push_problem(payload)
        if problem is not None:
            return _error(*problem)
        registration_ids: list[str] = payload["audience"]["registration_id"]
        for registration_id in registration_ids:
            failure = LOG.take_failure(PROVIDER, registration_id)
            if failure is not None:
                return _error(int(failure) if failure.isdigit() else failure)
        with self._lock:
            known = [
                registration_id for registration_id in registration_ids if registration_id in self._aliases
            ]
            if not known:
                return _error(1011)
            self.pushes.append(payload)
        text, extras = _shown(payload)
        for registration_id in known:
            LOG.add(
                Delivered(
                    provider=PROVIDER,
                    channel="push",
                    to=registration_id,
                    template=extras.get("template"),
                    params={},  # a push carries its rendered text, not the template's variables
                    text=text,
                    data=extras,
                )
            )
        options = payload.get("options") or {}
        return _json({"sendno": str(options.get("sendno", 0)), "msg_id": str(next(self._message_ids))})

    def _device(self, request: Request, registration_id: str) -> Response:
        if not _REGISTRATION_ID.fullmatch(registration_id):
            return _error(7002, "invalid registration_id")
        if request.method == "GET":
            with self._lock:
                alias = self._aliases.get(registration_id)
            return _json({"tags": None, "alias": alias, "mobile": None})
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or not body or set(body) - {"tags", "alias", "mobile"}:
            return _error(7002, "the body must set tags, alias or mobile")
        alias = body.get("alias")
        if "alias" in body and (not isinstance(alias, str) or len(alias.encode()) > 40):
            return _error(7002, "alias must be a string of at most 40 bytes")
        with self._lock:
            if "alias" in body:
                self._aliases[registration_id] = alias or None  # "" deletes the alias
            else:
                self._aliases.setdefault(registration_id, None)
        return Response(status=200)


def _push_problem(payload: Mapping[str, Any]) -> tuple[int, str] | None:
    """JPush's code and message for what is wrong with a push object, if anything."""
    unsupported = set(payload) - _PUSH_KEYS
    if unsupported:
        return 1009, f"unsupported keys: {sorted(unsupported)}"
    for key in ("platform", "audience"):
        if key not in payload:
            return 1002, f"{key} is missing"
    if "notification" not in payload and "message" not in payload:
        return 1002, "notification or message is required"
    platform = payload["platform"]
    if platform != "all" and not (isinstance(platform, list) and platform and set(platform) <= _PLATFORMS):
        return 1003, "platform must be 'all' or a list of platforms"
    audience = payload["audience"]
    registration_ids = audience.get("registration_id") if isinstance(audience, dict) else None
    if not (
        isinstance(registration_ids, list)
        and 0 < len(registration_ids) <= 1000
        and all(isinstance(item, str) and item for item in registration_ids)
    ):
        return 1003, "this stand-in pushes to audience.registration_id (1 to 1000 ids) only"
    notification = payload.get("notification")
    if notification is not None:
        if not isinstance(notification, dict) or not notification:
            return 1003, "notification must be a non-empty object"
        android, ios = notification.get("android"), notification.get("ios")
        if android is not None and not (isinstance(android, dict) and isinstance(android.get("alert"), str)):
            return 1003, "notification.android needs an alert string"
        if android is not None and android.get("priority", 0) not in range(-2, 3):
            return 1003, "notification.android.priority is -2 to 2"
        if ios is not None and not (isinstance(ios, dict) and isinstance(ios.get("alert"), (str, dict))):
            return 1003, "notification.ios needs an alert"
        for extras in (platform_body.get("extras") for platform_body in (android, ios) if platform_body):
            if extras is not None and not isinstance(extras, dict):
                return 1003, "extras must be an object"
    options = payload.get("options", {})
    if not isinstance(options, dict):
        return 1003, "options must be an object"
    if set(options) - _OPTIONS:
        return 1009, f"unsupported options: {sorted(set(options) - _OPTIONS)}"
    time_to_live = options.get("time_to_live", 86400)
    if type(time_to_live) is not int or not 0 <= time_to_live <= _MAX_TIME_TO_LIVE_S:
        return 1003, "options.time_to_live is 0 to 864000 seconds"
    if not isinstance(options.get("apns_production", True), bool):
        return 1003, "options.apns_production is a boolean"
    return None


def _shown(payload: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The notification's text and extras as a phone shows and reads them (Android's, else iOS's)."""
    notification = payload.get("notification") or {}
    for platform in ("android", "ios"):
        body = notification.get(platform)
        if isinstance(body, dict):
            alert = body["alert"]
            text = alert.get("body", "") if isinstance(alert, dict) else alert
            extras = body.get("extras") or {}
            return str(text), {str(key): str(value) for key, value in extras.items()}
    message = payload.get("message") or {}
    return str(notification.get("alert") or message.get("msg_content", "")), {}


def _json(body: Mapping[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8"
    )


def _error(code: int | str, message: str | None = None) -> Response:
    """JPush's error answer; a code JPush does not document (asked for by hand) comes with a 400."""
    status, known_message = _ERRORS.get(code, (400, "error")) if isinstance(code, int) else (400, "error")
    return _json({"error": {"code": code, "message": message or known_message}}, status)


def start(stand_in: JpushStandIn) -> Serving:
    """Serve ``stand_in`` on a free loopback port; point JPUSH_ENDPOINT at the returned ``url``."""
    return serve(stand_in, "jpush")
