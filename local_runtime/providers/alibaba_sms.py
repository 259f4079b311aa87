"""A loopback stand-in for Alibaba Cloud SMS: dysmsapi 2017-05-25 SendSms as Alibaba's SDK calls it, so
shared/messaging/alibaba_sms.py runs unchanged against it.

What Alibaba checks, it checks, and answers the way Alibaba does:
- the gateway: the ACS3-HMAC-SHA256 signature (V3, what alibabacloud_tea_openapi 0.4 sends), rebuilt
  from the request as received and compared with the one sent; the access key; x-acs-date within 15
  minutes; the nonce used once; the action. A refusal is an HTTP 4xx with {RequestId, HostId, Code,
  Message, Recommend} (SignatureDoesNotMatch 400, InvalidAccessKeyId.NotFound 404...);
- SendSms: the approved signature, the template code, TemplateParam's variables (names, strings, at most
  35 characters), the numbers. A refusal is HTTP 200 with {RequestId, Code, Message}.
Then it asks ``LOG.take_failure("alibaba-sms", number)`` and answers with that code if one was asked
for: isv.* and isp.* ones as SendSms answers them (HTTP 200), any other as the gateway does (its HTTP
status). "isv.BUSINESS_LIMIT_CONTROL" is the minute-level flow control; ":hour" or ":day" after it asks
for the hour- or day-level one (same code, Alibaba's Message tells them apart).
Else the message is delivered: a ``Delivered`` in ``LOG`` with the text as the phone shows it, and the
answer {RequestId, BizId, Code: "OK", Message: "OK"}."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from werkzeug.wrappers import Request, Response

from local_runtime.providers import LOG, Delivered, Serving, approved_templates, serve
from shared.logic.messages import MAX_VARIABLE_LENGTH, TEMPLATES, Text

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PROVIDER = "alibaba-sms"
ACTION = "SendSms"
VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
# Alibaba refuses a request dated more than 15 minutes from its clock (InvalidTimeStamp.Expired).
TIMESTAMP_WINDOW = timedelta(minutes=15)
MAX_NUMBERS = 1000

_AUTHORIZATION = re.compile(
    r"(?P<algorithm>\S+) Credential=(?P<key>[^,]+),"
    r"SignedHeaders=(?P<headers>[^,]+),Signature=(?P<signature>\w+)"
)
_MAINLAND = re.compile(r"1[3-9]\d{9}")
_DIGITS = re.compile(r"\d{7,15}")

# The gateway's refusals, with their HTTP status and message (Alibaba OpenAPI common error codes).
_GATEWAY: Mapping[str, tuple[int, str]] = {
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureDoesNotMatch": (400, "Specified signature is not matched with our calculation."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidAccessKeyId.Inactive": (400, "Specified access key is disabled."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidApi.NotFound": (404, "Specified api is not found, please check your url and method."),
    "MissingPhoneNumbers": (400, "PhoneNumbers is mandatory for this action."),
    "MissingSignName": (400, "SignName is mandatory for this action."),
    "MissingTemplateCode": (400, "TemplateCode is mandatory for this action."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "Throttling": (400, "Request was denied due to request throttling."),
    "Forbidden.RAM": (
        403,
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
    ),
    "InternalError": (
        500,
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
}
# SendSms's answers (https://help.aliyun.com/zh/sms/developer-reference/api-error-codes).
_SEND_SMS: Mapping[str, str] = {
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量中存在未赋值变量",
    "isv.INVALID_JSON_PARAM": "JSON参数不合法，只接受字符串值",
    "isv.PARAM_LENGTH_LIMIT": "参数超出长度限制",
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "isv.MOBILE_COUNT_OVER_LIMIT": "手机号码数量超过限制",
    "isv.BLACK_KEY_CONTROL_LIMIT": "黑名单管控",
    "isv.DAY_LIMIT_CONTROL": "触发日发送限额",
    "isv.MONTH_LIMIT_CONTROL": "触发月发送限额",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足",
    "isv.OUT_OF_SERVICE": "业务停机",
    "isv.SMS_CONTENT_ILLEGAL": "短信内容包含禁止发送内容",
    "isp.SYSTEM_ERROR": "系统错误",
    "isv.BUSINESS_LIMIT_CONTROL": "触发分钟级流控Permits:1",
    "isv.BUSINESS_LIMIT_CONTROL:hour": "触发小时级流控Permits:5",
    "isv.BUSINESS_LIMIT_CONTROL:day": "触发天级流控Permits:10",
}


def local_template_codes() -> dict[str, str]:
    """A template code for every template in the catalog, obviously local ("SMS_LOCAL_RESCUE_ALERT"):
    what the local runtime puts in SMS_TEMPLATES and builds this stand-in with."""
    return {template_id: f"SMS_LOCAL_{template_id.upper()}" for template_id in TEMPLATES}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _encoded(value: str) -> str:
    # RFC 3986, as Alibaba's canonical query wants it: space as %20, "*" as %2A, "~" as is.
    return quote(value, safe="~")


def e164(number: str) -> str | None:
    """A number as SendSms takes it (mainland: 11 digits, with or without +, +86, 0086 or 86; any other:
    country code and number), as E.164; None if it is no phone number."""
    digits = number.strip().removeprefix("+")
    digits = digits.removeprefix("00")
    if _MAINLAND.fullmatch(digits):
        return "+86" + digits
    if digits.startswith("86"):
        return "+" + digits if _MAINLAND.fullmatch(digits[2:]) else None
    return "+" + digits if _DIGITS.fullmatch(digits) and not digits.startswith("0") else None


class _Refusal(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class AlibabaSmsStandIn:
    """The WSGI app: Alibaba Cloud SMS for one access key, one approved signature and the approved
    templates (``template_codes``: platform template id -> Alibaba template code)."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        *,
        sign_name: str,
        template_codes: Mapping[str, str],
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.templates = approved_templates(template_codes, "Alibaba template code")
        self.access_keys = {access_key_id: access_key_secret}
        self.sign_name = sign_name
        self.now = now
        self._nonces: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request_id = str(uuid.uuid4()).upper()
        try:
            body = request.get_data(cache=True)
            self.authenticate(request, body)
            answer = self.send_sms(request, body, request_id)
        except _Refusal as refusal:
            return self.refusal(refusal.code, request_id, request.host)(environ, start_response)
        return _json(200, answer)(environ, start_response)

    # The gateway

    def authenticate(self, request: Request, body: bytes) -> None:
        """Alibaba's V3 signature check: the canonical request rebuilt from what arrived, hashed, signed
        with the access key's secret, and compared with the request's signature."""
        match = _AUTHORIZATION.fullmatch(request.headers.get("Authorization", ""))
        if not match or match["algorithm"] != ALGORITHM:
            raise _Refusal("IncompleteSignature")
        secret = self.access_keys.get(match["key"])
        if secret is None:
            raise _Refusal("InvalidAccessKeyId.NotFound")
        self.check_date(request.headers.get("x-acs-date", ""))
        signed = match["headers"].split(";")
        must_sign = {"host"} | {
            name.lower() for name, _ in request.headers.items() if name.lower().startswith("x-acs-")
        }
        if request.headers.get("Content-Type"):
            must_sign.add("content-type")
        if not must_sign <= set(signed) or signed != sorted(signed):
            raise _Refusal("IncompleteSignature")
        payload_hash = request.headers.get("x-acs-content-sha256", "")
        if not hmac.compare_digest(payload_hash, hashlib.sha256(body).hexdigest()):
            raise _Refusal("SignatureDoesNotMatch")
        canonical_request = "\n".join(
            (
                request.method,
                request.path or "/",
                "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in sorted(_query(request).items())),
                "".join(f"{name}:{(request.headers.get(name) or '').strip()}\n" for name in signed),
                ";".join(signed),
                payload_hash,
            )
        )
        string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match["signature"]):
            raise _Refusal("SignatureDoesNotMatch")
        self.use_nonce(request.headers.get("x-acs-signature-nonce", ""))
        if request.headers.get("x-acs-action") != ACTION or request.headers.get("x-acs-version") != VERSION:
            raise _Refusal("InvalidApi.NotFound")

    def check_date(self, value: str) -> None:
        try:
            dated = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise _Refusal("InvalidTimeStamp.Format") from None
        if abs(self.now() - dated) > TIMESTAMP_WINDOW:
            raise _Refusal("InvalidTimeStamp.Expired")

    def use_nonce(self, nonce: str) -> None:
        if not nonce:
            raise _Refusal("IncompleteSignature")
        now = self.now()
        with self._lock:
            for seen, at in list(self._nonces.items()):
                if now - at > TIMESTAMP_WINDOW:  # older requests fail on their date anyway
                    del self._nonces[seen]
            if nonce in self._nonces:
                raise _Refusal("SignatureNonceUsed")
            self._nonces[nonce] = now

    # SendSms

    def send_sms(self, request: Request, body: bytes, request_id: str) -> dict[str, str]:
        params = _query(request)
        if request.mimetype == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                raise _Refusal(f"Missing{name}")
        if params["SignName"] != self.sign_name:
            raise _Refusal("isv.SMS_SIGNATURE_ILLEGAL")
        template_id = self.templates.get(params["TemplateCode"])
        if template_id is None:
            raise _Refusal("isv.SMS_TEMPLATE_ILLEGAL")
        variables = self.variables(template_id, params.get("TemplateParam", ""))
        numbers = [e164(number) for number in params["PhoneNumbers"].split(",")]
        if len(numbers) > MAX_NUMBERS:
            raise _Refusal("isv.MOBILE_COUNT_OVER_LIMIT")
        recipients = [number for number in numbers if number]
        if len(recipients) != len(numbers):
            raise _Refusal("isv.MOBILE_NUMBER_ILLEGAL")
        for number in recipients:
            failure = LOG.take_failure(PROVIDER, number)
            if failure:
                raise _Refusal(failure)
        text = f"【{self.sign_name}】{Text(template_id, variables).filed}"
        for number in recipients:
            LOG.add(Delivered(PROVIDER, "sms", number, template_id, variables, text))
        biz_id = f"{uuid.uuid4().int % 10**18:018d}^0"
        return {"RequestId": request_id, "BizId": biz_id, "Code": "OK", "Message": "OK"}

    @staticmethod
    def variables(template_id: str, template_param: str) -> dict[str, str]:
        expected = TEMPLATES[template_id].variables
        try:
            values: Any = json.loads(template_param) if template_param else {}
        except ValueError:
            raise _Refusal("isv.INVALID_JSON_PARAM") from None
        if not isinstance(values, dict) or not all(isinstance(value, str) for value in values.values()):
            raise _Refusal("isv.INVALID_JSON_PARAM")
        if set(expected) - set(values):
            raise _Refusal("isv.TEMPLATE_MISSING_PARAMETERS")
        if set(values) - set(expected):
            raise _Refusal("isv.SMS_TEMPLATE_ILLEGAL")  # variables the approved template does not have
        if any(len(value) > MAX_VARIABLE_LENGTH for value in values.values()):
            raise _Refusal("isv.PARAM_LENGTH_LIMIT")
        return values

    def refusal(self, requested: str, request_id: str, host: str) -> Response:
        code = requested.split(":")[0]
        if code.startswith(("isv.", "isp.")):
            return _json(
                200, {"RequestId": request_id, "Code": code, "Message": _SEND_SMS.get(requested, code)}
            )
        status, message = _GATEWAY.get(code, (400, code))
        recommend = f"https://api.aliyun.com/troubleshoot?q={code}&product=Dysmsapi"
        error = {
            "RequestId": request_id,
            "HostId": host,
            "Code": code,
            "Message": message,
            "Recommend": recommend,
        }
        return _json(status, error)


def _query(request: Request) -> dict[str, str]:
    return dict(parse_qsl(request.query_string.decode(errors="replace"), keep_blank_values=True))


def _json(status: int, body: Mapping[str, str]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json;charset=utf-8",
    )


def start(
    access_key_id: str,
    access_key_secret: str,
    *,
    sign_name: str,
    template_codes: Mapping[str, str],
) -> Serving:
    """The stand-in on a free loopback port; ALIBABA_SMS_ENDPOINT is its ``url`` (or ``host``)."""
    app = AlibabaSmsStandIn(
        access_key_id, access_key_secret, sign_name=sign_name, template_codes=template_codes
    )
    return serve(app, PROVIDER)
