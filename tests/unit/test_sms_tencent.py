"""Tencent Cloud SMS: the adapter (shared/messaging/tencent_sms.py) with Tencent's own SDK, against the
loopback stand-in (local_runtime/providers/tencent_sms.py) that checks what Tencent checks."""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from werkzeug.wrappers import Request, Response

from local_runtime.providers import LOG, Delivered, Serving, serve
from local_runtime.providers.tencent_sms import TencentSmsStandIn, local_template_codes, start
from shared.logic.messages import TEMPLATES, Text
from shared.messaging.channels import ChannelBusy, ChannelError, ChannelRefused
from shared.messaging.tencent_sms import TencentSms

SECRET_ID = "AKIDLocalStandIn"
SECRET_KEY = "local-stand-in-secret-key"
APP_ID = "1400000001"
SIGN = "救在身边"
CODES = local_template_codes()
ALERT = Text("rescue_alert", {"distance": "约300米", "incident": "INC-7"})
# Three variables, filed in an order that is not alphabetical: certificate, valid_until, days.
REMINDER = Text(
    "certificate_reminder", {"certificate": "红十字 2024-17", "valid_until": "2027年1月1日", "days": "30"}
)
_numbers = itertools.count(1)
# The SDK reads the clock with datetime.utc*(), deprecated on Python 3.13: its own business.
pytestmark = pytest.mark.filterwarnings("ignore:datetime.datetime.utc:DeprecationWarning:tencentcloud")


def new_phone() -> str:
    """A mainland number no other test texts (LOG is process-wide)."""
    return f"+86136{next(_numbers):08d}"


def delivered_to(phone: str) -> list[Delivered]:
    return [item for item in LOG.items() if item.to == phone]


@pytest.fixture(autouse=True)
def clean_log() -> Iterator[None]:
    LOG.clear()
    yield
    LOG.clear()


@pytest.fixture(scope="module")
def tencent() -> Iterator[Serving]:
    serving = start(SECRET_ID, SECRET_KEY, app_id=APP_ID, sign_name=SIGN, template_codes=CODES)
    yield serving
    serving.stop()


@contextmanager
def serving(app: Any) -> Iterator[Serving]:
    served = serve(app, "tencent-sms-test")
    try:
        yield served
    finally:
        served.stop()


def stand_in(**overrides: Any) -> TencentSmsStandIn:
    settings = {"app_id": APP_ID, "sign_name": SIGN, "template_codes": CODES, **overrides}
    return TencentSmsStandIn(SECRET_ID, SECRET_KEY, **settings)


def sms(endpoint: str, **overrides: Any) -> TencentSms:
    settings: dict[str, Any] = {
        "secret_id": SECRET_ID,
        "secret_key": SECRET_KEY,
        "app_id": APP_ID,
        "sign_name": SIGN,
        "template_codes": CODES,
        "endpoint": endpoint,
        **overrides,
    }
    return TencentSms(**settings)


def refused_or_busy(channel: TencentSms, phone: str, text: Text = ALERT) -> ChannelError:
    with pytest.raises(ChannelError) as raised:
        channel.send(phone, text)
    assert delivered_to(phone) == []
    return raised.value


def test_a_text_arrives_rendered_from_its_template_with_its_variables(tencent):
    phone = new_phone()
    sms(tencent.url).send(phone, ALERT)
    [delivered] = delivered_to(phone)
    assert (delivered.provider, delivered.channel, delivered.template) == (
        "tencent-sms",
        "sms",
        "rescue_alert",
    )
    assert delivered.params == {"distance": "约300米", "incident": "INC-7"}
    assert delivered.text == "【救在身边】" + ALERT.filed


def test_the_variables_go_in_the_templates_order_and_chinese_survives_the_json_body():
    phone = new_phone()
    sent: list[dict[str, Any]] = []
    app = stand_in()

    def recording(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = Request(environ).get_data()
        sent.append(json.loads(body))
        environ["wsgi.input"] = io.BytesIO(body)  # read once: the stand-in reads it again
        return app(environ, start_response)

    with serving(recording) as served:
        sms(served.host).send(phone, REMINDER)
    assert sent[0]["PhoneNumberSet"] == [phone]  # E.164, "+86..."
    assert sent[0]["TemplateId"] == CODES["certificate_reminder"]
    assert sent[0]["TemplateParamSet"] == ["红十字 2024-17", "2027年1月1日", "30"]
    [delivered] = delivered_to(phone)
    assert delivered.params == dict(REMINDER.params)
    assert "您的急救证书红十字 2024-17将于2027年1月1日到期（还有30天）" in delivered.text


def test_a_wrong_secret_key_fails_the_signature_check(tencent):
    error = refused_or_busy(sms(tencent.url, secret_key="not-the-secret-key"), new_phone())
    assert isinstance(error, ChannelRefused)
    assert (error.provider, error.code) == ("tencent-sms", "AuthFailure.SignatureFailure")


def test_a_secret_id_tencent_does_not_know_is_not_found(tencent):
    error = refused_or_busy(sms(tencent.url, secret_id="AKIDSomeoneElse"), new_phone())
    assert isinstance(error, ChannelRefused)
    assert error.code == "AuthFailure.SecretIdNotFound"


def test_a_body_changed_after_it_was_signed_fails_the_signature_check():
    phone, other = new_phone(), new_phone()
    app = stand_in()

    def tampering(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = Request(environ).get_data().replace(phone.encode(), other.encode())
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    with serving(tampering) as served:
        error = refused_or_busy(sms(served.url), phone)
    assert isinstance(error, ChannelRefused)
    assert error.code == "AuthFailure.SignatureFailure"
    assert delivered_to(other) == []


def test_a_request_signed_more_than_5_minutes_from_tencents_clock_is_refused():
    phone = new_phone()
    with serving(stand_in(now=lambda: datetime.now(UTC) - timedelta(minutes=6))) as served:
        error = refused_or_busy(sms(served.url), phone)
    assert isinstance(error, ChannelRefused)  # a clock 6 minutes off will not right itself
    assert error.code == "AuthFailure.SignatureExpire"
    with serving(stand_in(now=lambda: datetime.now(UTC) + timedelta(minutes=4))) as served:
        sms(served.url).send(phone, ALERT)
    assert len(delivered_to(phone)) == 1


def test_another_sms_application_is_refused(tencent):
    error = refused_or_busy(sms(tencent.url, app_id="1400999999"), new_phone())
    assert isinstance(error, ChannelRefused)
    assert error.code == "UnauthorizedOperation.SmsSdkAppIdVerifyFail"


@pytest.mark.parametrize(
    ("code", "kind", "answered_for"),
    [
        # Per number (SendStatusSet). Its limits: 30 seconds and an hour pass, a day holds till midnight.
        ("LimitExceeded.PhoneNumberThirtySecondLimit", ChannelBusy, "number"),
        ("LimitExceeded.PhoneNumberOneHourLimit", ChannelBusy, "number"),
        ("LimitExceeded.DeliveryFrequencyLimit", ChannelBusy, "number"),
        ("LimitExceeded.PhoneNumberDailyLimit", ChannelRefused, "number"),
        ("LimitExceeded.PhoneNumberSameContentDailyLimit", ChannelRefused, "number"),
        ("LimitExceeded.AppDailyLimit", ChannelRefused, "number"),
        ("InternalError.Timeout", ChannelBusy, "number"),
        ("FailedOperation.PhoneNumberInBlacklist", ChannelRefused, "number"),
        ("InvalidParameterValue.IncorrectPhoneNumber", ChannelRefused, "number"),
        ("FailedOperation.InsufficientBalanceInSmsPackage", ChannelRefused, "number"),
        ("FailedOperation.TemplateIncorrectOrUnapproved", ChannelRefused, "number"),
        # A code not in the table, for this number: the other channel at once.
        ("SomethingNew.ForThisNumber", ChannelRefused, "number"),
        # For the request as a whole (Response.Error: the SDK raises them).
        ("RequestLimitExceeded", ChannelBusy, "request"),
        ("RequestLimitExceeded.UinLimitExceeded", ChannelBusy, "request"),
        ("InternalError", ChannelBusy, "request"),
        ("AuthFailure.SignatureFailure", ChannelRefused, "request"),
        ("UnauthorizedOperation.ServiceSuspendDueToArrears", ChannelRefused, "request"),
    ],
)
def test_an_error_asked_of_the_stand_in_comes_back_as_busy_or_refused_with_tencents_code(
    tencent, code, kind, answered_for
):
    phone = new_phone()
    LOG.fail_next("tencent-sms", code, to=phone)
    error = refused_or_busy(sms(tencent.url), phone)
    assert type(error) is kind
    assert (error.provider, error.code) == ("tencent-sms", code)
    # Response.Error, which the SDK raises, or this number's SendStatusSet entry
    assert isinstance(error.__cause__, TencentCloudSDKException) == (answered_for == "request")
    sms(tencent.url).send(phone, ALERT)  # asked for once: the next one goes through
    assert len(delivered_to(phone)) == 1


def test_a_signature_not_approved_is_refused(tencent):
    error = refused_or_busy(sms(tencent.url, sign_name="别的签名"), new_phone())
    assert isinstance(error, ChannelRefused)
    assert error.code == "FailedOperation.SignatureIncorrectOrUnapproved"


def test_a_template_id_not_approved_is_refused(tencent):
    error = refused_or_busy(sms(tencent.url, template_codes={"rescue_alert": "1110"}), new_phone())
    assert isinstance(error, ChannelRefused)
    assert error.code == "FailedOperation.TemplateIncorrectOrUnapproved"


def test_the_variables_must_be_as_many_as_the_templates(tencent):
    stand_down = Text("rescue_stand_down", {"incident": "INC-7"})
    mismatch = "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    swapped = sms(tencent.url, template_codes={"rescue_stand_down": CODES["rescue_alert"]})  # 1 for 2
    assert refused_or_busy(swapped, new_phone(), stand_down).code == mismatch
    swapped = sms(tencent.url, template_codes={"rescue_alert": CODES["rescue_stand_down"]})  # 2 for 1
    assert refused_or_busy(swapped, new_phone()).code == mismatch


def test_a_variable_longer_than_the_accounts_limit_is_refused():
    # Tencent accounts opened since 2024-01-25 take 6 characters a variable unless raised.
    with serving(stand_in(variable_length_limit=6)) as served:
        error = refused_or_busy(
            sms(served.url), new_phone(), Text("rescue_stand_down", {"incident": "INC-1234"})
        )
    assert isinstance(error, ChannelRefused)
    assert error.code == "InvalidParameterValue.TemplateParameterLengthLimit"


def test_a_template_without_an_id_is_a_deployment_error_named_for_it(tencent):
    phone = new_phone()
    without_alert = {key: code for key, code in CODES.items() if key != "rescue_alert"}
    with pytest.raises(ValueError, match="rescue_alert"):
        sms(tencent.url, template_codes=without_alert).send(phone, ALERT)
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
    assert error.code == "ClientNetworkError"


def test_no_connection_is_busy():
    with serving(stand_in()) as served:
        gone = served.host
    error = refused_or_busy(sms(gone), new_phone())
    assert isinstance(error, ChannelBusy)
    assert error.code == "ClientNetworkError"


@pytest.mark.parametrize(("connect_s", "read_s"), [(3.0, 5.0), (2.0, 6.0), (0, 5.0)])
def test_timeouts_beyond_what_an_sos_can_wait_are_a_deployment_error(connect_s, read_s):
    with pytest.raises(ValueError, match="timeouts"):
        sms("", connect_timeout_s=connect_s, read_timeout_s=read_s)


def test_local_template_ids_cover_the_catalog_and_are_numbers():
    assert set(CODES) == set(TEMPLATES)
    assert len(set(CODES.values())) == len(CODES)
    assert all(code.isdigit() for code in CODES.values())
