"""The JPush adapter (shared/messaging/jpush.py) through JPush's real SDK against the loopback stand-in
(local_runtime/providers/jpush.py): what arrives, and how JPush's refusals reach the caller."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local_runtime.providers import LOG, Serving
from local_runtime.providers.jpush import JpushStandIn, start
from shared.logic.messages import Text
from shared.logic.ports import DeviceRefused
from shared.messaging import jpush as jpush_adapter
from shared.messaging.channels import JPUSH_PREFIX, ChannelBusy, ChannelRefused
from shared.messaging.jpush import JpushPush, JpushRegistry

APP_KEY = "7d431e42dfa6a6d693ac2d04"
MASTER_SECRET = "5e987ac6d2e04d95a9d8f0d1"


@pytest.fixture(scope="module")
def stand_in() -> JpushStandIn:
    return JpushStandIn(APP_KEY, MASTER_SECRET)


@pytest.fixture(scope="module")
def serving(stand_in: JpushStandIn) -> Iterator[Serving]:
    served = start(stand_in)
    yield served
    served.stop()


@pytest.fixture(autouse=True)
def clean_log() -> Iterator[None]:
    LOG.clear()
    yield
    LOG.clear()


@pytest.fixture
def channel(serving: Serving) -> JpushPush:
    return JpushPush(APP_KEY, MASTER_SECRET, endpoint=serving.url, apns_production=False)


@pytest.fixture
def registry(serving: Serving) -> JpushRegistry:
    return JpushRegistry(APP_KEY, MASTER_SECRET, endpoint=serving.url)


def new_registration_id() -> str:
    return "1" + secrets.token_hex(9)  # 19 characters, as JPush's look


def alert_for(incident: str) -> tuple[Text, dict[str, str]]:
    text = Text("rescue_alert", {"distance": "350米", "incident": incident[-6:]})
    data = {"incident_id": incident, "kind": "alert", "link": f"rn://incident/{incident}?k=alert"}
    return text, data


def test_a_push_arrives_with_its_text_and_extras(channel: JpushPush, stand_in: JpushStandIn) -> None:
    registration_id = new_registration_id()
    stand_in.register_device(registration_id)
    incident = "INC" + secrets.token_hex(8).upper()
    text, data = alert_for(incident)

    channel.push(JPUSH_PREFIX + registration_id, text, data)

    [delivered] = LOG.items()
    assert (delivered.provider, delivered.channel, delivered.to) == ("jpush", "push", registration_id)
    assert delivered.template == "rescue_alert"
    assert delivered.text == text.filed
    assert dict(delivered.data) == {**data, "template": "rescue_alert"}
    sent = stand_in.pushes[-1]
    assert sent["audience"] == {"registration_id": [registration_id]}
    assert sent["platform"] == ["android", "ios"]
    android, ios = sent["notification"]["android"], sent["notification"]["ios"]
    assert (android["title"], android["priority"], android["big_text"]) == ("救在身边", 2, text.filed)
    assert ios["alert"] == {"title": "救在身边", "body": text.filed}
    assert ios["extras"] == android["extras"] == {**data, "template": "rescue_alert"}
    assert sent["options"]["time_to_live"] == 600
    assert sent["options"]["apns_production"] is False
    assert sent["options"]["apns_collapse_id"] == f"incident-{incident}"
    assert sent["options"]["classification"] == 1
    assert sent["options"]["third_party_channel"]["huawei"] == {"importance": "NORMAL", "category": "WORK"}


def test_vendor_options_add_to_the_defaults(serving: Serving, stand_in: JpushStandIn) -> None:
    channel = JpushPush(
        APP_KEY,
        MASTER_SECRET,
        endpoint=serving.url,
        vendor_options={"xiaomi": {"channel_id": "131000"}, "huawei": {"category": "SUBSCRIPTION"}},
    )
    registration_id = new_registration_id()
    stand_in.register_device(registration_id)

    channel.push(JPUSH_PREFIX + registration_id, *alert_for("INC" + secrets.token_hex(8)))

    vendors = stand_in.pushes[-1]["options"]["third_party_channel"]
    assert vendors["xiaomi"] == {"channel_id": "131000"}
    assert vendors["huawei"] == {"importance": "NORMAL", "category": "SUBSCRIPTION"}
    assert vendors["honor"] == {"importance": "NORMAL"}


def test_a_wrong_master_secret_is_refused(serving: Serving, stand_in: JpushStandIn) -> None:
    registration_id = new_registration_id()
    stand_in.register_device(registration_id)
    channel = JpushPush(APP_KEY, "not-the-secret", endpoint=serving.url)

    with pytest.raises(ChannelRefused) as refused:
        channel.push(JPUSH_PREFIX + registration_id, *alert_for("INC" + secrets.token_hex(8)))

    assert refused.value.code == "1004"
    assert LOG.items() == []


def test_an_unknown_registration_id_is_refused_with_jpush_code(channel: JpushPush) -> None:
    with pytest.raises(ChannelRefused) as refused:
        channel.push(JPUSH_PREFIX + new_registration_id(), *alert_for("INC" + secrets.token_hex(8)))

    assert refused.value.code == "1011"
    assert LOG.items() == []


@pytest.mark.parametrize("code", ["2002", "1000", "1030"])
def test_a_throttle_or_server_error_is_busy_then_the_push_goes_through(
    channel: JpushPush, stand_in: JpushStandIn, code: str
) -> None:
    registration_id = new_registration_id()
    stand_in.register_device(registration_id)
    LOG.fail_next("jpush", code, to=registration_id)
    text, data = alert_for("INC" + secrets.token_hex(8))

    with pytest.raises(ChannelBusy) as busy:
        channel.push(JPUSH_PREFIX + registration_id, text, data)
    assert busy.value.code == code
    assert LOG.items() == []

    channel.push(JPUSH_PREFIX + registration_id, text, data)
    assert [delivered.to for delivered in LOG.items()] == [registration_id]


@pytest.mark.parametrize("code", ["2003", "1003"])
def test_a_barred_app_key_or_invalid_id_is_refused(
    channel: JpushPush, stand_in: JpushStandIn, code: str
) -> None:
    registration_id = new_registration_id()
    stand_in.register_device(registration_id)
    LOG.fail_next("jpush", code, to=registration_id)

    with pytest.raises(ChannelRefused) as refused:
        channel.push(JPUSH_PREFIX + registration_id, *alert_for("INC" + secrets.token_hex(8)))

    assert refused.value.code == code


def test_a_jpush_that_does_not_answer_in_time_is_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jpush_adapter, "READ_TIMEOUT_S", 0.3)
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host, port = silent.getsockname()
        channel = JpushPush(APP_KEY, MASTER_SECRET, endpoint=f"http://{host}:{port}")

        with pytest.raises(ChannelBusy) as busy:
            channel.push(JPUSH_PREFIX + new_registration_id(), *alert_for("INC" + secrets.token_hex(8)))

    assert busy.value.code == "timeout"


@pytest.mark.parametrize("address", ["arn:aws-cn:sns:cn-north-1:1:endpoint/GCM/app/x", "jpush:", "jpush:a b"])
def test_an_address_that_is_no_registration_id_is_refused(channel: JpushPush, address: str) -> None:
    with pytest.raises(ChannelRefused) as refused:
        channel.push(address, *alert_for("INC" + secrets.token_hex(8)))

    assert refused.value.code == "1003"


def test_registering_takes_the_phone_over_and_names_the_previous_owner(
    registry: JpushRegistry, stand_in: JpushStandIn
) -> None:
    registration_id = new_registration_id()
    stand_in.register_device(registration_id)
    first, second = "01J" + secrets.token_hex(8).upper(), "01J" + secrets.token_hex(8).upper()

    assert registry.endpoint("android", registration_id, first) == (JPUSH_PREFIX + registration_id, None)
    assert stand_in.alias(registration_id) == first
    assert registry.endpoint("android", registration_id, first) == (JPUSH_PREFIX + registration_id, None)

    assert registry.endpoint("android", registration_id, second) == (JPUSH_PREFIX + registration_id, first)
    assert stand_in.alias(registration_id) == second


def test_a_registered_install_can_be_pushed_to(
    registry: JpushRegistry, channel: JpushPush, stand_in: JpushStandIn
) -> None:
    registration_id = new_registration_id()  # never installed through register_device: the app registers it
    address, _ = registry.endpoint("ios", registration_id, "01J" + secrets.token_hex(8).upper())

    channel.push(address, *alert_for("INC" + secrets.token_hex(8)))

    assert [delivered.to for delivered in LOG.items()] == [registration_id]


@pytest.mark.parametrize(
    "token",
    ["", "short", "1104a8979278ae64e75/../push", "1104a8979278 ae64e75", "极光1104a8979278ae64e75", "a" * 65],
)
def test_a_garbage_registration_id_is_refused_as_the_apps_fault(registry: JpushRegistry, token: str) -> None:
    # DeviceRefused: the API answers 422 (shared.logic.responders.register_device), not a 500
    with pytest.raises(DeviceRefused, match="8 to 64 letters and digits"):
        registry.endpoint("android", token, "01J" + secrets.token_hex(8).upper())


def test_registering_with_a_wrong_master_secret_is_refused(serving: Serving) -> None:
    registry = JpushRegistry(APP_KEY, "not-the-secret", endpoint=serving.url)

    with pytest.raises(ChannelRefused) as refused:
        registry.endpoint("android", new_registration_id(), "01J" + secrets.token_hex(8).upper())

    assert refused.value.code == "7004"


def test_the_stand_in_rejects_a_push_object_jpush_would_reject(
    serving: Serving, stand_in: JpushStandIn
) -> None:
    registration_id = new_registration_id()
    stand_in.register_device(registration_id)
    push: dict[str, Any] = {"platform": "all", "audience": {"registration_id": [registration_id]}}

    missing = requests.post(f"{serving.url}/v3/push", json=push, auth=(APP_KEY, MASTER_SECRET), timeout=5)
    broadcast = requests.post(
        f"{serving.url}/v3/push",
        json={**push, "audience": "all", "notification": {"alert": "x"}},
        auth=(APP_KEY, MASTER_SECRET),
        timeout=5,
    )

    assert (missing.status_code, missing.json()["error"]["code"]) == (400, 1002)
    assert (broadcast.status_code, broadcast.json()["error"]["code"]) == (400, 1003)
    assert LOG.items() == []


def test_without_an_endpoint_the_sdk_calls_jpush_own_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    channel, registry = JpushPush(APP_KEY, MASTER_SECRET), JpushRegistry(APP_KEY, MASTER_SECRET)
    called: list[tuple[str, str]] = []

    def answer(method: str, url: str, **_: Any) -> requests.Response:
        called.append((method, url))
        response = requests.Response()
        response.status_code = 200
        response._content = b'{"sendno": "0", "msg_id": "1"}' if url.endswith("/push") else b"{}"
        return response

    monkeypatch.setattr(channel.client.session, "request", answer)
    monkeypatch.setattr(registry.client.session, "request", answer)
    registration_id = new_registration_id()

    channel.push(JPUSH_PREFIX + registration_id, *alert_for("INC" + secrets.token_hex(8)))
    registry.endpoint("android", registration_id, "01J" + secrets.token_hex(8).upper())

    assert called == [
        ("POST", "https://api.jpush.cn/v3/push"),
        ("GET", f"https://device.jpush.cn/v3/devices/{registration_id}"),
        ("POST", f"https://device.jpush.cn/v3/devices/{registration_id}"),
    ]


def test_an_oidc_subject_with_dashes_registers_and_is_named_when_the_phone_moves_on(
    registry: JpushRegistry, stand_in: JpushStandIn
) -> None:
    """Keycloak's subjects are UUIDs: "-" is not allowed in a JPush alias, so it is written "+"."""
    registration_id = new_registration_id()
    first, second = "f47ac10b-58cc-4372-a567-0e02b2c3d479", "0b1e6f3a-9c1d-4e0f-8a2b-3c4d5e6f7a8b"

    assert registry.endpoint("android", registration_id, first) == (JPUSH_PREFIX + registration_id, None)
    assert stand_in.alias(registration_id) == first.replace("-", "+")
    assert registry.endpoint("android", registration_id, second) == (JPUSH_PREFIX + registration_id, first)


@pytest.mark.parametrize("subject", ["a" * 41, "user name", "auth0|abc+def"])
def test_a_subject_that_cannot_be_an_alias_still_registers_the_app(
    registry: JpushRegistry, stand_in: JpushStandIn, subject: str
) -> None:
    registration_id = new_registration_id()
    stand_in.register_device(registration_id)

    assert registry.endpoint("android", registration_id, subject) == (JPUSH_PREFIX + registration_id, None)
    assert stand_in.alias(registration_id) is None
