"""The cn profile's notifier: an alert goes by push when the app registered, else by SMS; when one channel
does not take it the other is tried at once; once one took it, no other is tried; when none took it the
notice fails (the rescue's lease retries it), busy before refused."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from shared.logic.messages import Text
from shared.logic.rescue.ports import Alert, Notice
from shared.messaging.channels import ChannelBusy, ChannelError, ChannelRefused
from shared.messaging.providers import ProviderNotifier, ProviderTextMessages

NOTICE = Notice("alert", "i-1", Text("rescue_alert", {"distance": "300 m", "incident": "i-1"}))


class Channel:
    def __init__(self, name: str, fails: ChannelError | None = None) -> None:
        self.name, self.fails, self.sent = name, fails, []

    def send(self, phone: str, text: Text) -> None:
        self._take(phone, text, {})

    def push(self, address: str, text: Text, data: Mapping[str, str]) -> None:
        self._take(address, text, data)

    def _take(self, to: str, text: Text, data: Mapping[str, str]) -> None:
        if self.fails is not None:
            raise self.fails
        self.sent.append((to, text.template, dict(data)))


class Sns:
    def __init__(self) -> None:
        self.published = []

    def publish(self, **kwargs) -> None:
        self.published.append(kwargs)


def alert(push: str | None = "jpush:1a0018970a3c2b4e5f", phone: str | None = "+8613900000001") -> Alert:
    return Alert(
        "i-1", "r-1", "alerted", 1, 300.0, 30.0, 120.0, datetime(2026, 12, 1, tzinfo=UTC), phone, push
    )


def notifier(sms: Channel, push: Channel | None) -> ProviderNotifier:
    return ProviderNotifier(sms, push, Sns, "arn:aws-cn:sns:cn-north-1:1:dispatch")  # type: ignore[arg-type]


def test_push_when_the_app_registered_and_nothing_else():
    sms, push = Channel("sms"), Channel("push")
    notifier(sms, push).notify(alert(), NOTICE)
    assert push.sent == [
        (
            "jpush:1a0018970a3c2b4e5f",
            "rescue_alert",
            {
                "incident_id": "i-1",
                "kind": "alert",
                "template": "rescue_alert",
                "link": "rn://incident/i-1?k=alert",
            },
        )
    ]
    assert sms.sent == []


@pytest.mark.parametrize("failure", [ChannelRefused("jpush", "1011"), ChannelBusy("jpush", "2002")])
def test_a_push_not_taken_goes_by_sms_at_once(failure):
    sms, push = Channel("sms"), Channel("push", failure)
    notifier(sms, push).notify(alert(), NOTICE)
    assert [to for to, *_ in sms.sent] == ["+8613900000001"]


def test_no_app_means_sms_and_no_push_attempt():
    sms, push = Channel("sms"), Channel("push")
    notifier(sms, push).notify(alert(push=None), NOTICE)
    assert len(sms.sent) == 1 and push.sent == []


def test_an_sns_endpoint_left_from_the_global_profile_is_not_a_push_address():
    sms, push = Channel("sms"), Channel("push")
    notifier(sms, push).notify(alert(push="arn:aws-cn:sns:cn-north-1:1:endpoint/GCM/app/x"), NOTICE)
    assert len(sms.sent) == 1 and push.sent == []


def test_an_sms_not_taken_for_a_push_only_responder_fails_the_notice():
    sms = Channel("sms", ChannelRefused("alibaba-sms", "isv.MOBILE_NUMBER_ILLEGAL"))
    push = Channel("push", ChannelRefused("jpush", "1011"))
    with pytest.raises(ChannelRefused):
        notifier(sms, push).notify(alert(), NOTICE)


def test_when_no_channel_took_it_busy_wins_so_the_lease_retries_soon():
    sms = Channel("sms", ChannelRefused("alibaba-sms", "isv.DAY_LIMIT_CONTROL"))
    push = Channel("push", ChannelBusy("jpush", "2002"))
    with pytest.raises(ChannelBusy):
        notifier(sms, push).notify(alert(), NOTICE)


def test_a_responder_with_no_way_to_reach_is_an_error_not_a_silent_drop():
    with pytest.raises(ValueError, match="r-1"):
        notifier(Channel("sms"), None).notify(alert(push=None, phone=None), NOTICE)


def test_texts_go_through_the_sms_provider():
    sms = Channel("sms")
    ProviderTextMessages(sms).send(
        "+8613900000002",
        Text("seat_promotion", {"site": "培训中心", "starts": "2026-12-05 09:00", "registration": "r"}),
    )
    assert sms.sent == [("+8613900000002", "seat_promotion", {})]


def test_a_push_sdk_failing_in_an_unforeseen_way_still_falls_back_to_sms():
    class Broken(Channel):
        def push(self, address, text, data):
            raise ValueError("Expecting value: line 1 column 1 (char 0)")  # a 200 that is not JSON

    sms = Channel("sms")
    notifier(sms, Broken("push")).notify(alert(), NOTICE)
    assert len(sms.sent) == 1
