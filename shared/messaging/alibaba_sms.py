"""Texts through Alibaba Cloud SMS (阿里云短信服务, dysmsapi 2017-05-25 SendSms): the China profile's SMS
channel when SMS_PROVIDER is "alibaba". A mainland text is only ever an approved template (TemplateCode)
with its variables (TemplateParam, JSON) under the approved signature (SignName); Alibaba renders it.

Alibaba's own SDK (``alibabacloud_dysmsapi20170525`` on ``alibabacloud_tea_openapi`` 0.4) makes the call
and signs it (ACS3-HMAC-SHA256). How Alibaba answers:
- HTTP 200 with ``Code``: "OK" when taken, else a business code (isv.* for this account, number, template
  or text; isp.* for Alibaba's own side), https://help.aliyun.com/zh/sms/developer-reference/api-error-codes;
- HTTP 4xx/5xx from the API gateway (signature, access key, throttling, outage), which the SDK raises,
  https://help.aliyun.com/document_detail/30137.htm and https://developer.aliyun.com/ask/278265.
PhoneNumbers: a mainland number as its 11 digits, any other as country code and number without "+"
("国际区号+号码"), https://help.aliyun.com/document_detail/2619166.html."""

from __future__ import annotations

import json
from collections.abc import Mapping

import requests
from alibabacloud_dysmsapi20170525 import models as dysms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from Tea.exceptions import TeaException, UnretryableException

from shared.logic.messages import Text
from shared.messaging.channels import ChannelBusy, ChannelError, ChannelRefused, endpoint_parts

PROVIDER = "alibaba-sms"
DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"
# A connection to Alibaba is made within a second from the mainland, its answer in well under one:
# together far inside the notice lease (NOTICE_LEASE_SECONDS, 20 s). An SOS cannot wait the SDK's
# default 5 s + 10 s for one responder while the rest of its wave waits behind. These are the most a
# deployment may set.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0

# Alibaba's default flow control (isv.BUSINESS_LIMIT_CONTROL) is per number, minute, hour and day; the
# Message says which: "触发分钟级流控Permits:1", "触发小时级流控Permits:5", "触发天级流控Permits:10". The
# minute and hour ones pass: retry later. The day one holds until midnight: the other channel, now.
FLOW_CONTROL = "isv.BUSINESS_LIMIT_CONTROL"
DAY_LEVEL = "天级"

# Answers that mean "the same request may work later": the gateway's throttles and outages, Alibaba's
# own system errors, a nonce the gateway saw already (a new request gets a new one), and no answer.
_BUSY = frozenset(
    {
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "isp.UNKNOWN",
        "timeout",
        "connection",
        "bad-answer",
    }
)
# Answers that no retry will change before a person does something: the credentials or the clock
# (gateway), a number Alibaba will not text, a day or month limit reached, the balance, a signature or
# template not approved, variables that do not fit it, content or keywords refused.
_REFUSED = frozenset(
    {
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "InvalidTimeStamp.Expired",
        "InvalidTimeStamp.Format",
        "Forbidden",
        "Forbidden.RAM",
        "InvalidApi.NotFound",
        "MissingPhoneNumbers",
        "MissingSignName",
        "MissingTemplateCode",
        "isp.RAM_PERMISSION_DENY",
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.INVALID_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.DENY_IP_RANGE",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
    }
)


def channel_error(code: str, message: str = "", *, answered: bool) -> ChannelError:
    """Alibaba's ``code`` as ChannelBusy or ChannelRefused. ``answered``: Alibaba took the request and
    answered about this message (HTTP 200), rather than the request failing on its way."""
    kind: type[ChannelError]
    if code == FLOW_CONTROL:
        kind = ChannelRefused if DAY_LEVEL in message else ChannelBusy
    elif code in _BUSY:
        kind = ChannelBusy
    elif code in _REFUSED:
        kind = ChannelRefused
    elif code.startswith("isp."):
        kind = ChannelBusy  # "isp": Alibaba's side
    elif code.startswith("isv."):
        kind = ChannelRefused  # "isv": the caller's side (this account, number, template or text)
    else:
        # A code not known here. On a request that failed on its way, the same channel is tried again
        # (as for SNS); a message Alibaba read and declined is unlikely to be taken the next time, and
        # the other channel reaches the responder at once.
        kind = ChannelRefused if answered else ChannelBusy
    return kind(PROVIDER, code, message)


def phone_numbers(phone: str) -> str:
    """``phone`` (E.164) as SendSms's PhoneNumbers wants it: a mainland number without +86, any other as
    country code and number without the "+"."""
    return phone.removeprefix("+86") if phone.startswith("+86") else phone.removeprefix("+")


def _no_answer_code(error: UnretryableException) -> str:
    # The SDK wraps requests' exception in its RetryError (raised in the except block: the context), and
    # an answer it could not read (a proxy's HTML 502, say) in the exception that reading raised.
    cause = getattr(error, "inner_exception", None)
    context = getattr(cause, "__context__", None)
    if isinstance(context, requests.Timeout) or isinstance(cause, requests.Timeout):
        return "timeout"
    if isinstance(context, requests.ConnectionError) or isinstance(cause, requests.ConnectionError):
        return "connection"
    return "bad-answer"


class AlibabaSms:
    """SmsChannel over Alibaba Cloud SMS. Build one per Lambda instance: it holds the SDK client (and its
    connection pool)."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        *,
        sign_name: str,
        template_codes: Mapping[str, str],
        endpoint: str = "",
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ValueError("Alibaba Cloud SMS needs an access_key_id and an access_key_secret")
        if not sign_name:
            raise ValueError("Alibaba Cloud SMS needs the approved signature (SMS_SIGN_NAME)")
        if not 0 < connect_timeout_s <= CONNECT_TIMEOUT_S or not 0 < read_timeout_s <= READ_TIMEOUT_S:
            raise ValueError(
                f"SMS timeouts must be within {CONNECT_TIMEOUT_S} s to connect and {READ_TIMEOUT_S} s to "
                f"read: {connect_timeout_s}, {read_timeout_s}"
            )
        scheme, host = endpoint_parts(endpoint, DEFAULT_ENDPOINT)
        self.sign_name = sign_name
        self.template_codes = dict(template_codes)
        # No retry_options: the SDK then sends once, and the rescue's notice lease decides when to retry.
        self.client = Client(
            open_api_models.Config(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                endpoint=host,
                protocol=scheme,
                connect_timeout=round(connect_timeout_s * 1000),
                read_timeout=round(read_timeout_s * 1000),
            )
        )

    def template_code(self, text: Text) -> str:
        code = self.template_codes.get(text.template)
        if not code:
            # A deployment mistake (SMS_TEMPLATES lacks it), never a message to drop in silence.
            raise ValueError(
                f"no Alibaba Cloud SMS template code for template {text.template!r} (SMS_TEMPLATES)"
            )
        return code

    def send(self, phone: str, text: Text) -> None:
        request = dysms_models.SendSmsRequest(
            phone_numbers=phone_numbers(phone),
            sign_name=self.sign_name,
            template_code=self.template_code(text),
            template_param=json.dumps(text.sms_params(), ensure_ascii=False),
        )
        try:
            response = self.client.send_sms(request)
        except UnretryableException as error:
            if not error.code:
                raise ChannelBusy(PROVIDER, _no_answer_code(error), str(error)[:300]) from error
            raise channel_error(str(error.code), str(error.message or ""), answered=False) from error
        except TeaException as error:
            # The gateway's 4xx/5xx (ClientException, ServerException, ThrottlingException).
            code = str(error.code or "bad-answer")
            raise channel_error(code, str(error.message or ""), answered=False) from error
        body = response.body
        code = str(getattr(body, "code", None) or "")
        if code == "OK":
            return
        raise channel_error(code or "bad-answer", str(getattr(body, "message", None) or ""), answered=True)
