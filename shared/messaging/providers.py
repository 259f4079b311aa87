"""The cn profile's notifier and texts: alerts over a push provider and an SMS provider (shared/messaging/
channels.py), the dispatch centre over its SNS topic as in the global profile.

An alert goes by push when the responder's app registered one, else by SMS; when the first channel does
not take it (refused, throttled, down), the other is tried at once: a cardiac arrest cannot wait for the
workflow's next retry when another way to the responder's phone is open. Only when no channel took it
does the notice fail, and then the rescue's notice lease retries it later (never lost). Once a channel
took it, no other is tried (never sent twice; a channel that timed out after taking it is the one way a
person can get both, and that is the better mistake)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.logic.messages import Text
from shared.logic.rescue.ports import Alert, Notice
from shared.messaging.channels import JPUSH_PREFIX, ChannelBusy, ChannelError, PushChannel, SmsChannel
from shared.messaging.sns import DEEP_LINK, tell_dispatch_centre
from shared.observability import logger


class ProviderNotifier:
    def __init__(
        self, sms: SmsChannel, push: PushChannel | None, sns: Callable[[], Any], dispatch_topic_arn: str
    ) -> None:
        self.sms = sms
        self.push = push
        self.sns = sns  # built when the dispatch centre is first told, not with the channels
        self.dispatch_topic_arn = dispatch_topic_arn

    def notify(self, alert: Alert, notice: Notice) -> None:
        data = {
            "incident_id": notice.incident_id,
            "kind": notice.kind,
            "template": notice.text.template,
            "link": DEEP_LINK.format(incident_id=notice.incident_id, kind=notice.kind),
        }
        ways = []
        address = alert.push_endpoint_arn or ""
        if self.push is not None and address.startswith(JPUSH_PREFIX):
            push = self.push
            ways.append(("push", lambda: push.push(address, notice.text, data)))
        if alert.phone:
            phone = alert.phone
            ways.append(("sms", lambda: self.sms.send(phone, notice.text)))
        if not ways:
            raise ValueError(f"responder {alert.responder_id} has neither an app registration nor a phone")
        failures: list[Exception] = []
        for channel, send in ways:
            try:
                send()
                return
            except Exception as error:  # whatever a provider's SDK raised: the next channel is tried
                code = error.code if isinstance(error, ChannelError) else type(error).__name__
                logger.warning("channel did not take the notice", extra={"channel": channel, "code": code})
                failures.append(error)
        # Busy somewhere: worth the lease's retry soon; refused everywhere: still retried, and logged.
        raise next((f for f in failures if isinstance(f, ChannelBusy)), failures[-1])

    def tell_dispatch_centre(self, incident_id: str, message: str) -> None:
        tell_dispatch_centre(self.sns(), self.dispatch_topic_arn, incident_id, message)


class ProviderTextMessages:
    """A templated text to one phone through the SMS provider (reminders, seat promotions)."""

    def __init__(self, sms: SmsChannel) -> None:
        self.sms = sms

    def send(self, phone: str, message: Text) -> None:
        self.sms.send(phone, message)
