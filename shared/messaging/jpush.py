"""App push through JPush (极光推送), the China profile's push provider: AWS SNS has no mobile push there
and Android phones have no FCM, so JPush carries each push over its own connection when the app is
online and over the phone maker's channel (Huawei, Honor, Xiaomi, OPPO, vivo, Meizu) or APNs when not.

JPush's own SDK (``jpush``) builds every payload and makes every call. A responder's push address is
"jpush:<registration_id>" (channels.JPUSH_PREFIX); the device's JPush alias names the responder, so a
phone handed on to another volunteer is noticed when the new owner's app registers (``JpushRegistry``).

JPush's error codes: https://docs.jiguang.cn/jpush/server/push/rest_api_v3_push (调用返回),
https://docs.jiguang.cn/jpush/server/push/rest_api_v3_device, HTTP statuses:
https://docs.jiguang.cn/jpush/server/push/http_status_code (429: the app's API rate limit, code 2002)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import jpush
import requests
from jpush import common as jpush_common

from shared.logic.messages import Text
from shared.logic.ports import DeviceRefused
from shared.messaging.channels import JPUSH_PREFIX, ChannelBusy, ChannelError, ChannelRefused
from shared.observability import logger

PROVIDER = "jpush"
TITLE = "救在身边"

# How long JPush (and the vendor channels it relays to) may hold a push for a phone that is offline. A
# cardiac-arrest alert is worth nothing after ten minutes: the patient's chance falls by about a tenth a
# minute without CPR, the workflow has moved on to later waves and SMS, and a volunteer who sets off
# hours later for a finished rescue is worse off than one never told. JPush's default is a day.
TIME_TO_LIVE_S = 600
# A connection to JPush is made within a second from the mainland; its answer comes in well under one.
# Together they stay far inside the notice lease (NOTICE_LEASE_SECONDS, 20 s): an SOS cannot wait the
# SDK's default 30 s for one responder while the rest of its wave waits behind.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0

# The Android notification channel the app creates for rescue notices, with IMPORTANCE_HIGH (heads-up,
# sound, lock screen): on Android 8+ a notification's channel decides how loudly it arrives.
ANDROID_CHANNEL_ID = "rescue_alert"
# What each phone maker is told this push is (options.third_party_channel). Huawei and Honor silence
# anything not classed "service and communication" (服务与通讯: lock screen, ring, vibrate, no daily
# cap); NORMAL importance with a service category gets that. Huawei trusts the category only once the
# app's self-classification (自分类权益) for it is approved: WORK (task assignment) is the one this
# deployment applies for. Xiaomi's private-message channel and OPPO's registered channel and category
# are issued per app by those makers: a deployment adds them through ``vendor_options``.
VENDOR_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "huawei": {"importance": "NORMAL", "category": "WORK"},
    "honor": {"importance": "NORMAL"},
}
# options.classification: 1 is a "system message" (系统消息) to vivo and Xiaomi, which JPush then sends
# without spending the operations-message quota; 0, the default, is marketing and capped per device.
SYSTEM_MESSAGE = 1

# JPush answers that mean "the same call may work later" (besides any 5xx and 429): 1000 internal
# error, 1030 internal timeout, 2002 rate limit; the device API's 7000 internal error, 7030 busy.
_RETRY_LATER = frozenset({1000, 1030, 2002, 7000, 7030})
# The device API's "request parameter invalid": the registration id is not one JPush knows the form of.
_DEVICE_REJECTED = frozenset({7002, 7013})

# JPush registration ids are short alphanumeric strings (e.g. "1104a8979278ae64e75"). Checked before
# any call, so a malformed one never reaches a URL path.
_REGISTRATION_ID = re.compile(r"[0-9A-Za-z]{8,64}")
# JPush's alias rule: letters, digits, _, CJK and @!#$&*+=.|￥, at most 40 bytes in UTF-8.
_ALIAS = re.compile(r"[\w@!#$&*+=.|￥]+")
_ALIAS_MAX_BYTES = 40


def alias_of(responder_id: str) -> str | None:
    """The JPush alias naming a responder: their id, with "-" (an OIDC issuer's UUID subject, Keycloak's
    say) written "+", which JPush allows and such ids never hold. None when the id cannot be one."""
    if "+" in responder_id:
        return None
    alias = responder_id.replace("-", "+")
    return alias if _ALIAS.fullmatch(alias) and len(alias.encode()) <= _ALIAS_MAX_BYTES else None


def responder_of(alias: object) -> str | None:
    return alias.replace("+", "-") if isinstance(alias, str) and alias else None


class _JPushClient(jpush.JPush):
    """The SDK's client, with every request sent to ``base_url`` instead of JPush's hosts when set.

    Every SDK API object (Push, Device, Report, Schedule) builds its URL from the hosts in
    ``jpush.common.ZONES`` and hands it to this one method, so replacing scheme and host here reroutes
    them all. ZONES itself is left alone: it is shared by every client in the process."""

    def __init__(self, app_key: str, master_secret: str, *, base_url: str) -> None:
        super().__init__(app_key, master_secret, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
        self.base_url = base_url.rstrip("/")

    def _request(
        self,
        method: str,
        body: str | None,
        url: str,
        content_type: str | None = None,
        version: int | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        if self.base_url:
            url = self.base_url + urlsplit(url).path
        try:
            return super()._request(method, body, url, content_type, version=version, params=params)
        except AttributeError as error:
            # The SDK reads a non-2xx JSON answer without an {"error": {...}} object (a gateway's, not
            # JPush's) as None.get(...): no answer from JPush itself, so one to try again.
            raise jpush_common.APIRequestException("JPush answered without an error object") from error


def _client(app_key: str, master_secret: str, endpoint: str) -> _JPushClient:
    if not app_key or not master_secret:
        raise ValueError("JPush needs an app_key and a master_secret")
    return _JPushClient(app_key, master_secret, base_url=endpoint)


def registration_id_of(address: str) -> str:
    """The JPush registration id in a push address ("jpush:<registration_id>")."""
    if not address.startswith(JPUSH_PREFIX):
        raise ValueError(f"not a JPush push address: {address!r}")
    return _checked_registration_id(address.removeprefix(JPUSH_PREFIX))


def _checked_registration_id(registration_id: str) -> str:
    if not _REGISTRATION_ID.fullmatch(registration_id):
        raise ValueError(f"not a JPush registration id: {registration_id[:80]!r}")
    return registration_id


def _classified(failure: jpush_common.JPushFailure) -> ChannelError:
    status = getattr(failure.response, "status_code", 0)
    try:
        code: int | None = int(failure.error_code)
    except (TypeError, ValueError):
        code = None
    label = str(code) if code is not None else f"HTTP {status}"
    message = failure.details if isinstance(failure.details, str) else ""
    if code in _RETRY_LATER or status == 429 or status >= 500:
        return ChannelBusy(PROVIDER, label, message)
    # Anything else JPush refuses will be refused again: no such install (1011), an invalid registration
    # id (1003), the app key barred or out of quota (2003-2007, 1012), or a payload JPush will not take.
    return ChannelRefused(PROVIDER, label, message)


@contextmanager
def _jpush_errors(unauthorized_code: str) -> Iterator[None]:
    """The SDK's exceptions as ChannelBusy or ChannelRefused, with JPush's own code."""
    try:
        yield
    except jpush_common.Unauthorized as error:
        # Wrong app key or master secret (HTTP 401; the SDK drops JPush's code, 1004 or 7004). No push
        # will get through until a person fixes the secret, so the caller must text instead at once
        # rather than retry this channel.
        raise ChannelRefused(PROVIDER, unauthorized_code, "app key or master secret rejected") from error
    except jpush_common.JPushFailure as error:
        raise _classified(error) from error
    except (jpush_common.APIConnectionException, jpush_common.APIRequestException) as error:
        # The SDK raises these from inside its except block: the requests exception is the context.
        code = "timeout" if isinstance(error.__context__, requests.Timeout) else "connection"
        raise ChannelBusy(PROVIDER, code, str(error.value)) from error


class JpushPush:
    """PushChannel over JPush: one notification to one app install."""

    def __init__(
        self,
        app_key: str,
        master_secret: str,
        *,
        endpoint: str = "",
        apns_production: bool = True,
        ios_sound: str = "default",
        android_channel_id: str = ANDROID_CHANNEL_ID,
        vendor_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.client = _client(app_key, master_secret, endpoint)
        # JPush pushes to the production APNs unless told otherwise; a development build of the app
        # registers with the sandbox and gets nothing from production, and the other way round.
        self.apns_production = apns_production
        self.ios_sound = ios_sound
        self.android_channel_id = android_channel_id
        self.vendor_options = {
            vendor: {**VENDOR_OPTIONS.get(vendor, {}), **(vendor_options or {}).get(vendor, {})}
            for vendor in {*VENDOR_OPTIONS, *(vendor_options or {})}
        }

    def push(self, address: str, text: Text, data: Mapping[str, str]) -> None:
        try:
            registration_id = registration_id_of(address)
        except ValueError as error:
            # JPush would answer 1003 (an invalid registration id) for it: the caller texts instead.
            raise ChannelRefused(PROVIDER, "1003", str(error)) from error
        push = self.client.create_push()
        push.platform = jpush.platform("android", "ios")
        push.audience = jpush.audience(jpush.registration_id(registration_id))
        push.notification = self.notification(text, data)
        push.options = self.options(data)
        with _jpush_errors("1004"):
            push.send()

    def notification(self, text: Text, data: Mapping[str, str]) -> dict[str, Any]:
        # The app reads what to open from the extras (the link) and which message it is (the template).
        extras = {**data, "template": text.template}
        incident = data.get("incident_id") or None
        android = jpush.android(
            alert=text.filed,
            title=TITLE,
            priority=2,  # PRIORITY_MAX: heads-up where the channel allows it
            category="alarm",  # lets the notification through Do Not Disturb's "alarms" exception
            channel_id=self.android_channel_id,
            style=1,  # big text: the whole alert on the lock screen, not its first line
            big_text=text.filed,
            extras=extras,
        )
        ios = jpush.ios(
            alert={"title": TITLE, "body": text.filed},
            sound=self.ios_sound,
            thread_id=incident,  # one incident's notices stack together
            interruption_level="time-sensitive",  # through Focus modes (with the app's entitlement)
            extras=extras,
        )
        return dict(jpush.notification(android=android, ios=ios))

    def options(self, data: Mapping[str, str]) -> dict[str, Any]:
        options: dict[str, Any] = {
            "time_to_live": TIME_TO_LIVE_S,
            "apns_production": self.apns_production,
            "classification": SYSTEM_MESSAGE,
            "third_party_channel": self.vendor_options,
        }
        incident = data.get("incident_id", "")
        collapse_id = f"incident-{incident}"
        if incident and len(collapse_id.encode()) <= 64:  # APNs' limit
            # A stand-down or reroute replaces the incident's alert in iOS's notification centre, so
            # nobody sets off from an alert that was called off.
            options["apns_collapse_id"] = collapse_id
        return options


class JpushRegistry:
    """PushRegistry over JPush's device API: the device's alias is the responder it alerts."""

    def __init__(self, app_key: str, master_secret: str, *, endpoint: str = "") -> None:
        self.client = _client(app_key, master_secret, endpoint)

    def endpoint(self, platform: str, token: str, responder_id: str) -> tuple[str, str | None]:
        """``token`` is the JPush registration id the app's JPush SDK got; it names the install on
        every platform, so ``platform`` adds nothing JPush needs."""
        if not _REGISTRATION_ID.fullmatch(token):
            raise DeviceRefused("a JPush registration id is 8 to 64 letters and digits")
        registration_id = token
        alias = alias_of(responder_id)
        if alias is None:
            # Pushes go by registration id, so the app is still reached; only a phone later handed on
            # to another volunteer would not be noticed (its alias is what tells).
            logger.warning("responder id cannot be a JPush alias: the device is registered without one")
            return JPUSH_PREFIX + registration_id, None
        device = self.client.create_device()
        try:
            with _jpush_errors("7004"):
                info = device.get_deviceinfo(registration_id).payload
                before = responder_of(info.get("alias") if isinstance(info, dict) else None)
                if before != responder_id:
                    device.set_deviceinfo(registration_id, jpush.device_alias(alias))
        except ChannelRefused as error:
            if error.code.isdigit() and int(error.code) in _DEVICE_REJECTED:
                raise DeviceRefused("JPush does not know this registration id") from error
            raise
        previous = before if before and before != responder_id else None
        return JPUSH_PREFIX + registration_id, previous
