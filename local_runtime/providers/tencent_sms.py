"""A loopback stand-in for Tencent Cloud SMS: API 3.0 sms 2021-01-11 SendSms as Tencent's SDK calls it,
so shared/messaging/tencent_sms.py runs unchanged against it.

What Tencent checks, it checks, and answers the way Tencent does (always HTTP 200, JSON under
"Response"):
- the request: the TC3-HMAC-SHA256 signature, rebuilt from the request as received (the headers named
  in SignedHeaders, the body's hash) and compared with the one sent; the SecretId; X-TC-Timestamp within
  5 minutes of its clock and the credential scope's date and service; the action and version; the SMS
  application (SmsSdkAppId). A refusal is Response.Error {Code, Message} (AuthFailure.SignatureFailure,
  AuthFailure.SecretIdNotFound, AuthFailure.SignatureExpire, UnauthorizedOperation.SmsSdkAppIdVerifyFail);
- each number: E.164 (or a mainland number as 0086/86/11 digits), the approved signature, the template
  id, as many TemplateParamSet values as the template has variables. A refusal is that number's
  SendStatusSet entry (Fee 0), as in the "失败" example of https://cloud.tencent.com/document/api/382/55981.
Then, for each number, it asks ``LOG.take_failure("tencent-sms", number)`` and answers with that code if
one was asked for: a code that concerns the request (AuthFailure.*, RequestLimitExceeded*, InternalError,
UnauthorizedOperation.*...) as Response.Error, any other in that number's status.
Else the message is delivered: a ``Delivered`` in ``LOG`` with the text as the phone shows it, and the
number's status {SerialNo, PhoneNumber, Fee, SessionContext, Code: "Ok", Message: "send success",
IsoCode}."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from local_runtime.providers import LOG, Delivered, Serving, approved_templates, serve
from shared.logic.messages import MAX_VARIABLE_LENGTH, TEMPLATES, Text

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PROVIDER = "tencent-sms"
SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
# "Timestamp 和服务器时间相差不得超过五分钟" (AuthFailure.SignatureExpire).
TIMESTAMP_WINDOW = timedelta(minutes=5)
MAX_NUMBERS = 200
# A mainland text of at most 70 characters (signature included) is billed as one; a longer one is split
# into parts of 67 (https://cloud.tencent.com/document/product/382/18058).
SINGLE_TEXT = 70
LONG_TEXT_PART = 67

_AUTHORIZATION = re.compile(
    r"(?P<algorithm>\S+) Credential=(?P<secret_id>[^/]+)/(?P<date>[^/]+)/(?P<service>[^/]+)/tc3_request, "
    r"SignedHeaders=(?P<headers>[^,]+), Signature=(?P<signature>\w+)"
)
_MAINLAND = re.compile(r"1[3-9]\d{9}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")

# Codes that concern the request as a whole: Tencent answers them in Response.Error, never per number.
_REQUEST_LEVEL = (
    "AuthFailure",
    "RequestLimitExceeded",
    "UnauthorizedOperation",
    "MissingParameter",
    "InvalidAction",
)
_REQUEST_LEVEL_CODES = frozenset(
    {
        "InternalError",
        "InvalidParameter",
        "NoSuchVersion",
        "FailedOperation.JsonParseFail",
        "InvalidParameterValue.SdkAppIdNotExist",
        "LimitExceeded.PhoneNumberCountLimit",
    }
)
_PER_NUMBER = "the number of sms messages sent from a single mobile number"
_MESSAGES: Mapping[str, str] = {
    "AuthFailure.InvalidAuthorization": "Authorization is invalid.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found, please ensure that your SecretId is correct.",
    "AuthFailure.SignatureExpire": (
        "Signature expired. Timestamp and server time cannot differ by more than 5 minutes."
    ),
    "AuthFailure.SignatureFailure": (
        "The provided credentials could not be validated. Please check your signature is correct."
    ),
    "RequestLimitExceeded": "Your current request times exceeds the frequency limit.",
    "InternalError": "An internal error has occurred. Retry your request.",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "SmsSdkAppId verify fail.",
    "FailedOperation.SignatureIncorrectOrUnapproved": (
        "signature format is incorrect or signature is not approved"
    ),
    "FailedOperation.TemplateIncorrectOrUnapproved": (
        "template is not approved or request content does not match the approved template content"
    ),
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": (
        "request content does not match the template content"
    ),
    "FailedOperation.PhoneNumberInBlacklist": "the number is in the do-not-disturb list",
    "FailedOperation.InsufficientBalanceInSmsPackage": "insufficient balance in SMS package",
    "InvalidParameterValue.IncorrectPhoneNumber": "incorrect phone number",
    "InvalidParameterValue.TemplateParameterLengthLimit": "a template parameter exceeds the length limit",
    "LimitExceeded.PhoneNumberDailyLimit": f"{_PER_NUMBER} every day exceeds the upper limit",
    "LimitExceeded.PhoneNumberOneHourLimit": f"{_PER_NUMBER} within 1 hour exceeds the upper limit",
    "LimitExceeded.PhoneNumberThirtySecondLimit": f"{_PER_NUMBER} within 30 seconds exceeds the upper limit",
}


def local_template_codes() -> dict[str, str]:
    """A template id for every template in the catalog, numeric as Tencent's are and obviously local
    (from 9000001): what the local runtime puts in SMS_TEMPLATES and builds this stand-in with."""
    return {template_id: str(9_000_000 + n) for n, template_id in enumerate(TEMPLATES, start=1)}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def e164(number: str) -> str | None:
    """A number as SendSms takes it (E.164; a mainland one also as 0086, 86 or its 11 digits), as E.164;
    None if it is no phone number."""
    for prefix in ("+86", "0086", "86", ""):
        if number.startswith(prefix) and _MAINLAND.fullmatch(number.removeprefix(prefix)):
            return "+86" + number.removeprefix(prefix)
    return number if _E164.fullmatch(number) and not number.startswith("+86") else None


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


class _Refusal(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class TencentSmsStandIn:
    """The WSGI app: Tencent Cloud SMS for one API key, one SMS application, one approved signature and
    the approved templates (``template_codes``: platform template id -> Tencent template id).
    ``variable_length_limit``: the most characters a variable may have (the account's setting)."""

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        *,
        app_id: str,
        sign_name: str,
        template_codes: Mapping[str, str],
        variable_length_limit: int = MAX_VARIABLE_LENGTH,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.templates = approved_templates(template_codes, "Tencent template id")
        self.secret_keys = {secret_id: secret_key}
        self.app_id = app_id
        self.sign_name = sign_name
        self.variable_length_limit = variable_length_limit
        self.now = now

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request_id = str(uuid.uuid4())
        try:
            body = request.get_data(cache=True)
            self.authenticate(request, body)
            statuses = self.send_sms(body)
        except _Refusal as refusal:
            error = {"Code": refusal.code, "Message": _MESSAGES.get(refusal.code, refusal.code)}
            return _json({"Error": error, "RequestId": request_id})(environ, start_response)
        return _json({"SendStatusSet": statuses, "RequestId": request_id})(environ, start_response)

    def authenticate(self, request: Request, body: bytes) -> None:
        """Tencent's TC3-HMAC-SHA256 check: the canonical request rebuilt from what arrived, hashed, signed
        with a key derived from the SecretKey, the date and the service, and compared with the request's
        signature."""
        match = _AUTHORIZATION.fullmatch(request.headers.get("Authorization", ""))
        if not match or match["algorithm"] != ALGORITHM:
            raise _Refusal("AuthFailure.InvalidAuthorization")
        secret_key = self.secret_keys.get(match["secret_id"])
        if secret_key is None:
            raise _Refusal("AuthFailure.SecretIdNotFound")
        timestamp = request.headers.get("X-TC-Timestamp", "")
        if not timestamp.isdigit():
            raise _Refusal("AuthFailure.InvalidAuthorization")
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
        if abs(self.now() - signed_at) > TIMESTAMP_WINDOW:
            raise _Refusal("AuthFailure.SignatureExpire")
        signed = match["headers"].split(";")
        if not {"content-type", "host"} <= set(signed):
            raise _Refusal("AuthFailure.InvalidAuthorization")
        # Header names and values lower-cased and trimmed; a POST has no query string to sign.
        canonical_request = "\n".join(
            (
                request.method,
                request.path or "/",
                request.query_string.decode(errors="replace") if request.method == "GET" else "",
                "".join(f"{name}:{(request.headers.get(name) or '').strip().lower()}\n" for name in signed),
                match["headers"],
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{match['date']}/{match['service']}/tc3_request"
        string_to_sign = (
            f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        )
        signing_key = _hmac(
            _hmac(_hmac(f"TC3{secret_key}".encode(), match["date"]), match["service"]), "tc3_request"
        )
        expected = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        # The scope's date and service are signed, but must also be the request's own.
        in_scope = match["date"] == signed_at.strftime("%Y-%m-%d") and match["service"] == SERVICE
        if not hmac.compare_digest(expected, match["signature"]) or not in_scope:
            raise _Refusal("AuthFailure.SignatureFailure")
        if request.headers.get("X-TC-Action") != ACTION:
            raise _Refusal("InvalidAction")
        if request.headers.get("X-TC-Version") != VERSION:
            raise _Refusal("NoSuchVersion")

    def send_sms(self, body: bytes) -> list[dict[str, Any]]:
        try:
            params: Any = json.loads(body)
        except ValueError:
            raise _Refusal("FailedOperation.JsonParseFail") from None
        if not isinstance(params, dict):
            raise _Refusal("FailedOperation.JsonParseFail")
        numbers = params.get("PhoneNumberSet")
        values = params.get("TemplateParamSet") or []
        if not _strings(numbers) or not _strings(values):
            raise _Refusal("InvalidParameter")
        if not numbers:
            raise _Refusal("MissingParameter.EmptyPhoneNumberSet")
        if len(numbers) > MAX_NUMBERS:
            raise _Refusal("LimitExceeded.PhoneNumberCountLimit")
        if params.get("SmsSdkAppId") != self.app_id:
            raise _Refusal("UnauthorizedOperation.SmsSdkAppIdVerifyFail")
        context = str(params.get("SessionContext") or "")
        refused, template_id = self.refusal(params, values)
        statuses: list[dict[str, Any]] = []
        for number in numbers:
            to = e164(number)
            if to is None:
                code: str | None = "InvalidParameterValue.IncorrectPhoneNumber"
            elif refused:
                code = refused
            else:
                code = LOG.take_failure(PROVIDER, to)  # asked for by a test or /dev/providers/fail
                if code and (code.startswith(_REQUEST_LEVEL) or code in _REQUEST_LEVEL_CODES):
                    raise _Refusal(code)
            statuses.append(_status(to or number, context, code))
        if template_id is not None:
            variables = dict(zip(TEMPLATES[template_id].variables, values, strict=True))
            text = f"【{self.sign_name}】{Text(template_id, variables).filed}"
            for status in statuses:
                if status["Code"] == "Ok":
                    status["Fee"] = 1 if len(text) <= SINGLE_TEXT else math.ceil(len(text) / LONG_TEXT_PART)
                    LOG.add(Delivered(PROVIDER, "sms", status["PhoneNumber"], template_id, variables, text))
        return statuses

    def refusal(self, params: Mapping[str, Any], values: list[str]) -> tuple[str | None, str | None]:
        """What every number of this request is refused for, if anything; else the template's id."""
        if params.get("SignName") != self.sign_name:
            return "FailedOperation.SignatureIncorrectOrUnapproved", None
        template_id = self.templates.get(str(params.get("TemplateId") or ""))
        if template_id is None:
            return "FailedOperation.TemplateIncorrectOrUnapproved", None
        if len(values) != len(TEMPLATES[template_id].variables):
            return "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", None
        if any(len(value) > self.variable_length_limit for value in values):
            return "InvalidParameterValue.TemplateParameterLengthLimit", None
        return None, template_id


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _status(phone: str, context: str, code: str | None) -> dict[str, Any]:
    if code is None:
        serial = f"2640:{uuid.uuid4().int % 10**28:028d}"
        iso = "CN" if phone.startswith("+86") else "DEF"
        return _answer(serial, phone, 1, context, "Ok", "send success", iso)
    return _answer("", phone, 0, context, code, _MESSAGES.get(code, code), "")


def _answer(
    serial: str, phone: str, fee: int, context: str, code: str, message: str, iso: str
) -> dict[str, Any]:
    return {
        "SerialNo": serial,
        "PhoneNumber": phone,
        "Fee": fee,
        "SessionContext": context,
        "Code": code,
        "Message": message,
        "IsoCode": iso,
    }


def _json(response: Mapping[str, Any]) -> Response:
    # Exactly "application/json": the SDK reads Response.Error only under that content type (or
    # text/plain), as Tencent sends it.
    return Response(
        json.dumps({"Response": response}, ensure_ascii=False).encode(), content_type="application/json"
    )


def start(
    secret_id: str,
    secret_key: str,
    *,
    app_id: str,
    sign_name: str,
    template_codes: Mapping[str, str],
) -> Serving:
    """The stand-in on a free loopback port; TENCENT_SMS_ENDPOINT is its ``url`` (or ``host``)."""
    app = TencentSmsStandIn(
        secret_id, secret_key, app_id=app_id, sign_name=sign_name, template_codes=template_codes
    )
    return serve(app, PROVIDER)
