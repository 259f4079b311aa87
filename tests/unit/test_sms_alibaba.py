"""Alibaba Cloud SMS: the adapter (shared/messaging/alibaba_sms.py) with Alibaba's own SDK, against the
loopback stand-in (local_runtime/providers/alibaba_sms.py) that checks what Alibaba checks."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from local_runtime.providers import LOG, Delivered, Serving, serve
from local_runtime.providers.alibaba_sms import AlibabaSmsStandIn, local_template_codes, start
from shared.logic.messages import TEMPLATES, Text
from shared.messaging.alibaba_sms import AlibabaSms
from shared.messaging.channels import ChannelBusy, ChannelError, ChannelRefused

ACCESS_KEY_ID = "LTAI5tLocalStandIn"
ACCESS_KEY_SECRET = "local-stand-in-secret"
SIGN = "救在身边"
CODES = local_template_codes()
ALERT = Text("rescue_alert", {"distance": "约300米", "incident": "INC-7"})
_numbers = itertools.count(1)
# The SDK reads the clock with datetime.utc*(), deprecated on Python 3.13: its own business.
pytestmark = pytest.mark.filterwarnings(
    "ignore:datetime.datetime.utc:DeprecationWarning:alibabacloud_tea_openapi"
)


def new_phone() -> str:
    """A mainland number no other test texts (LOG is process-wide)."""
    return f"+86137{next(_numbers):08d}"


def delivered_to(phone: str) -> list[Delivered]:
    return [item for item in LOG.items() if item.to == phone]


@pytest.fixture(autouse=True)
def clean_log() -> Iterator[None]:
    LOG.clear()
    yield
    LOG.clear()


@pytest.fixture(scope="module")
def alibaba() -> Iterator[Serving]:
    serving = start(ACCESS_KEY_ID, ACCESS_KEY_SECRET, sign_name=SIGN, template_codes=CODES)
    yield serving
    serving.stop()


@contextmanager
def serving(app: Any) -> Iterator[Serving]:
    served = serve(app, "alibaba-sms-test")
    try:
        yield served
    finally:
        served.stop()


def stand_in(**overrides: Any) -> AlibabaSmsStandIn:
    return AlibabaSmsStandIn(
        ACCESS_KEY_ID, ACCESS_KEY_SECRET, **{"sign_name": SIGN, "template_codes": CODES, **overrides}
    )


def sms(endpoint: str, **overrides: Any) -> AlibabaSms:
    settings: dict[str, Any] = {
        "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET,
        "sign_name": SIGN,
        "template_codes": CODES,
        "endpoint": endpoint,
        **overrides,
    }
    return AlibabaSms(**settings)


def refused_or_busy(channel: AlibabaSms, phone: str, text: Text = ALERT) -> ChannelError:
    with pytest.raises(ChannelError) as raised:
        channel.send(phone, text)
    assert delivered_to(phone) == []
    return raised.value


def test_a_text_arrives_rendered_from_its_template_with_its_variables(alibaba):
    phone = new_phone()
    sms(alibaba.url).send(phone, ALERT)
    [delivered] = delivered_to(phone)
    assert (delivered.provider, delivered.channel, delivered.template) == (
        "alibaba-sms",
        "sms",
        "rescue_alert",
    )
    assert delivered.params == {"distance": "约300米", "incident": "INC-7"}
    assert delivered.text == "【救在身边】" + ALERT.filed
    assert "约300米" in delivered.text and delivered.text.endswith("事件INC-7")


def test_chinese_spaces_and_url_reserved_characters_survive_the_signed_query_string(alibaba):
    phone = new_phone()
    aed = "人民广场地铁站 2号口 A&B+C=100% *~'"
    text = Text("rescue_reroute", {"aed": aed, "incident": "事件#7/8?"})
    sms(alibaba.host).send(phone, text)
    [delivered] = delivered_to(phone)
    assert delivered.params == {"aed": aed, "incident": "事件#7/8?"}
    assert aed in delivered.text


def test_a_mainland_number_goes_without_86_and_any_other_as_country_code_and_number():
    sent: list[str] = []
    app = stand_in()

    def recording(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sent.append(Request(environ).args["PhoneNumbers"])
        return app(environ, start_response)

    mainland, hong_kong = new_phone(), "+85291234567"
    with serving(recording) as served:
        sms(served.host).send(mainland, ALERT)
        sms(served.host).send(hong_kong, ALERT)
    assert sent == [mainland.removeprefix("+86"), "85291234567"]
    assert [item.to for item in LOG.items()] == [mainland, hong_kong]


def test_a_wrong_secret_fails_the_signature_check(alibaba):
    error = refused_or_busy(sms(alibaba.url, access_key_secret="not-the-secret"), new_phone())
    assert isinstance(error, ChannelRefused)
    assert (error.provider, error.code) == ("alibaba-sms", "SignatureDoesNotMatch")


def test_an_access_key_alibaba_does_not_know_is_not_found(alibaba):
    error = refused_or_busy(sms(alibaba.url, access_key_id="LTAI5tSomeoneElse"), new_phone())
    assert isinstance(error, ChannelRefused)
    assert error.code == "InvalidAccessKeyId.NotFound"


def test_a_request_changed_after_it_was_signed_fails_the_signature_check():
    phone, other = new_phone(), new_phone()
    app = stand_in()

    def tampering(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        number = phone.removeprefix("+86")
        environ["QUERY_STRING"] = environ["QUERY_STRING"].replace(number, other.removeprefix("+86"))
        return app(environ, start_response)

    with serving(tampering) as served:
        error = refused_or_busy(sms(served.url), phone)
    assert isinstance(error, ChannelRefused)
    assert error.code == "SignatureDoesNotMatch"
    assert delivered_to(other) == []


def test_a_request_signed_more_than_15_minutes_from_alibabas_clock_is_refused():
    phone = new_phone()
    with serving(stand_in(now=lambda: datetime.now(UTC) + timedelta(minutes=16))) as served:
        error = refused_or_busy(sms(served.url), phone)
    assert isinstance(error, ChannelRefused)  # a clock 16 minutes off will not right itself
    assert error.code == "InvalidTimeStamp.Expired"
    with serving(stand_in(now=lambda: datetime.now(UTC) - timedelta(minutes=14))) as served:
        sms(served.url).send(phone, ALERT)
    assert len(delivered_to(phone)) == 1


def test_a_replayed_request_is_refused_for_its_used_nonce():
    phone = new_phone()
    app = stand_in()
    recorded: dict[str, Any] = {}

    def recording(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        recorded.update(query=request.query_string.decode(), headers=dict(request.headers))
        return app(environ, start_response)

    with serving(recording) as served:
        sms(served.url).send(phone, ALERT)
        replay = requests.post(f"{served.url}/?{recorded['query']}", headers=recorded["headers"], timeout=5)
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    assert len(delivered_to(phone)) == 1


@pytest.mark.parametrize(
    ("code", "kind", "http_status"),
    [
        # SendSms's answers come with HTTP 200, the gateway's with its 4xx or 5xx.
        # Alibaba's flow control per number: minute and hour pass, the day holds until midnight.
        ("isv.BUSINESS_LIMIT_CONTROL", ChannelBusy, 200),
        ("isv.BUSINESS_LIMIT_CONTROL:hour", ChannelBusy, 200),
        ("isv.BUSINESS_LIMIT_CONTROL:day", ChannelRefused, 200),
        ("isv.DAY_LIMIT_CONTROL", ChannelRefused, 200),
        ("Throttling.User", ChannelBusy, 400),
        ("ServiceUnavailable", ChannelBusy, 503),
        ("InternalError", ChannelBusy, 500),
        ("isp.SYSTEM_ERROR", ChannelBusy, 200),
        ("isv.MOBILE_NUMBER_ILLEGAL", ChannelRefused, 200),
        ("isv.BLACK_KEY_CONTROL_LIMIT", ChannelRefused, 200),
        ("isv.AMOUNT_NOT_ENOUGH", ChannelRefused, 200),
        ("isv.OUT_OF_SERVICE", ChannelRefused, 200),
        ("isv.SMS_TEMPLATE_ILLEGAL", ChannelRefused, 200),
        ("isv.SMS_SIGNATURE_ILLEGAL", ChannelRefused, 200),
        ("SignatureDoesNotMatch", ChannelRefused, 400),
        # Codes not in the table: a request that failed on its way is tried again; a message Alibaba
        # declined goes by the other channel (isv: the caller's side), unless Alibaba's side (isp).
        ("SomeGatewayFault", ChannelBusy, 400),
        ("isv.SOMETHING_NEW", ChannelRefused, 200),
        ("isp.SOMETHING_NEW", ChannelBusy, 200),
    ],
)
def test_an_error_asked_of_the_stand_in_comes_back_as_busy_or_refused_with_alibabas_code(
    alibaba, code, kind, http_status
):
    phone = new_phone()
    LOG.fail_next("alibaba-sms", code, to=phone)
    error = refused_or_busy(sms(alibaba.url), phone)
    assert type(error) is kind
    assert (error.provider, error.code) == ("alibaba-sms", code.split(":")[0])
    assert (getattr(error.__cause__, "status_code", None) or 200) == http_status  # the SDK's exception
    sms(alibaba.url).send(phone, ALERT)  # asked for once: the next one goes through
    assert len(delivered_to(phone)) == 1


def test_a_signature_not_approved_is_refused(alibaba):
    error = refused_or_busy(sms(alibaba.url, sign_name="别的签名"), new_phone())
    assert isinstance(error, ChannelRefused)
    assert error.code == "isv.SMS_SIGNATURE_ILLEGAL"


def test_a_template_code_not_approved_is_refused(alibaba):
    error = refused_or_busy(sms(alibaba.url, template_codes={"rescue_alert": "SMS_000000001"}), new_phone())
    assert isinstance(error, ChannelRefused)
    assert error.code == "isv.SMS_TEMPLATE_ILLEGAL"


def test_the_variables_must_be_the_templates_by_name(alibaba):
    stand_down = Text("rescue_stand_down", {"incident": "INC-7"})
    # stand_down's variables under the alert's code: "distance" has no value
    swapped = sms(alibaba.url, template_codes={"rescue_stand_down": CODES["rescue_alert"]})
    assert refused_or_busy(swapped, new_phone(), stand_down).code == "isv.TEMPLATE_MISSING_PARAMETERS"
    # the alert's variables under stand_down's code: "distance" is not in that template
    swapped = sms(alibaba.url, template_codes={"rescue_alert": CODES["rescue_stand_down"]})
    assert refused_or_busy(swapped, new_phone()).code == "isv.SMS_TEMPLATE_ILLEGAL"


def test_a_variable_longer_than_35_characters_is_cut_to_fit_and_sent(alibaba):
    # Alibaba refuses a notification variable over 35 characters (isv.PARAM_LENGTH_LIMIT, as the stand-in
    # does): the adapter sends the first 34 and an ellipsis rather than no alert at all.
    phone = new_phone()
    sms(alibaba.url).send(phone, Text("rescue_reroute", {"aed": "甲" * 36, "incident": "INC-7"}))
    [delivered] = delivered_to(phone)
    assert delivered.params["aed"] == "甲" * 34 + "…"


def test_a_template_without_a_code_is_a_deployment_error_named_for_it(alibaba):
    phone = new_phone()
    without_alert = {key: code for key, code in CODES.items() if key != "rescue_alert"}
    with pytest.raises(ValueError, match="rescue_alert"):
        sms(alibaba.url, template_codes=without_alert).send(phone, ALERT)
    assert delivered_to(phone) == []


def test_no_answer_within_the_read_timeout_is_busy():
    def slow(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        time.sleep(1.0)
        return Response("{}", content_type="application/json")(environ, start_response)

    with serving(slow) as served:
        started = time.monotonic()
        error = refused_or_busy(sms(served.url, read_timeout_s=0.2), new_phone())
        assert time.monotonic() - started < 0.9
    assert isinstance(error, ChannelBusy)
    assert error.code == "timeout"


def test_no_connection_is_busy():
    with serving(stand_in()) as served:
        gone = served.host
    error = refused_or_busy(sms(gone), new_phone())
    assert isinstance(error, ChannelBusy)
    assert error.code == "connection"


@pytest.mark.parametrize(("connect_s", "read_s"), [(3.0, 5.0), (2.0, 6.0), (0, 5.0)])
def test_timeouts_beyond_what_an_sos_can_wait_are_a_deployment_error(connect_s, read_s):
    with pytest.raises(ValueError, match="timeouts"):
        sms("", connect_timeout_s=connect_s, read_timeout_s=read_s)


def test_local_template_codes_cover_the_catalog_and_look_local():
    assert set(CODES) == set(TEMPLATES)
    assert len(set(CODES.values())) == len(CODES)
    assert CODES["rescue_alert"] == "SMS_LOCAL_RESCUE_ALERT"
