"""Channels for the China profile, where SNS has no SMS and no mobile push: an SMS provider (Alibaba Cloud
SMS or Tencent Cloud SMS) and a push provider (JPush) behind two small interfaces, and the notifier that
routes each notice over them.

A provider's answer is one of three things. Sent. ``ChannelBusy``: a throttle, a timeout, a 5xx (try
the same channel again later: the rescue's notice lease does, as it does for SNS). ``ChannelRefused``:
this address cannot take this message now (a push registration that no longer exists, a number the
provider will not text today): the other channel is tried at once."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from shared.logic.messages import Text

# A responder's push address in the China profile: the JPush registration id, with this prefix, in the
# field that holds an SNS endpoint ARN in the global profile.
JPUSH_PREFIX = "jpush:"


class ChannelError(Exception):
    """A provider did not take the message. ``code`` is the provider's own error code."""

    def __init__(self, provider: str, code: str, message: str = "") -> None:
        super().__init__(f"{provider}: {code} {message}".strip())
        self.provider = provider
        self.code = code


class ChannelBusy(ChannelError):
    """Throttled, timed out or failed on the provider's side: the same channel may work later."""


class ChannelRefused(ChannelError):
    """This address will not get this message by this channel (now): try the other one."""


class SmsChannel(Protocol):
    def send(self, phone: str, text: Text) -> None:
        """Text ``phone`` (E.164) with an approved template; raises ChannelBusy or ChannelRefused."""
        ...


class PushChannel(Protocol):
    def push(self, address: str, text: Text, data: Mapping[str, str]) -> None:
        """Push ``text`` (title and body) with ``data`` (what the app opens) to one install."""
        ...


class DispatchCentre(Protocol):
    def tell(self, incident_id: str, message: str) -> None: ...


def endpoint_parts(endpoint: str, default_host: str) -> tuple[str, str]:
    """(scheme, host[:port]) of an endpoint setting: empty is the provider's own host; "http://host:port"
    says its scheme; a bare "host:port" is https, but on loopback, where only the local runtime's
    plain-HTTP stand-ins live, http."""
    if not endpoint:
        return "https", default_host
    parts = urlsplit(endpoint if "://" in endpoint else "//" + endpoint)
    if (
        not parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.scheme not in ("", "http", "https")
    ):
        raise ValueError(f"not an SMS API endpoint (host[:port] or http(s)://host[:port]): {endpoint!r}")
    return parts.scheme or ("http" if loopback(parts.hostname or "") else "https"), parts.netloc


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
