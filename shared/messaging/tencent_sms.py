"""Texts through Tencent Cloud SMS (腾讯云短信, API 3.0 sms 2021-01-11 SendSms): the China profile's SMS
channel when SMS_PROVIDER is "tencent". A mainland text is only ever an approved template (TemplateId, a
number) with its variables in the template's order (TemplateParamSet: {1}, {2}...) under the approved
signature (SignName), from the SMS application SmsSdkAppId.

Tencent's own SDK (``tencentcloud-sdk-python-sms``) makes the call and signs it (TC3-HMAC-SHA256). How
Tencent answers (https://cloud.tencent.com/document/api/382/55981):
- HTTP 200 with a status per number (SendStatusSet[].Code): "Ok" when taken, else e.g.
  "LimitExceeded.PhoneNumberDailyLimit" (the SDK's errorcodes.py lists them with their meaning);
- HTTP 200 with Response.Error for the request as a whole (signature, secret, rate, internal error),
  which the SDK raises as TencentCloudSDKException, as it does "ClientNetworkError" (no connection or no
  answer in time) and "ServerNetworkError" (an HTTP status other than 200).
Common error codes: https://cloud.tencent.com/document/api/382/52075; SMS ones:
https://cloud.tencent.com/document/api/382/59177."""

from __future__ import annotations

from collections.abc import Mapping

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from shared.logic.messages import Text
from shared.messaging.channels import ChannelBusy, ChannelError, ChannelRefused, endpoint_parts

PROVIDER = "tencent-sms"
DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
# As for Alibaba (alibaba_sms.py): far inside the notice lease (NOTICE_LEASE_SECONDS, 20 s), where the
# SDK's default is 60 s. These are the most a deployment may set.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0
SENT = "Ok"

# Answers that mean "the same request may work later": the API's rate limits, Tencent's internal errors
# and timeouts, the per-number 30-second and one-hour limits (and the frequency policy that holds them),
# and the SDK's own "no answer" codes.
_BUSY = frozenset(
    {
        "RequestLimitExceeded",
        "InternalError",
        "InternalError.Timeout",
        "InternalError.SendAndRecvFail",
        "InternalError.OtherError",
        "InternalError.UnknownError",
        "InternalError.ParseBackendResponseFail",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.DeliveryFrequencyLimit",
        "LimitExceeded.GlobalSmsSendingRateLimit",
        "ClientNetworkError",
        "ServerNetworkError",
    }
)
_BUSY_PREFIXES = ("RequestLimitExceeded.",)  # ...IPLimitExceeded, ...UinLimitExceeded
# Answers that no retry will change before a person does something: the secret, app or clock; a daily
# limit reached (number, same content, app); a number on the do-not-disturb list or not a number; the
# package's balance; a signature or template not approved or variables that do not fit it.
_REFUSED = frozenset(
    {
        "LimitExceeded.PhoneNumberDailyLimit",
        "LimitExceeded.PhoneNumberSameContentDailyLimit",
        "LimitExceeded.AppDailyLimit",
        "LimitExceeded.AppMainlandChinaDailyLimit",
        "LimitExceeded.AppGlobalDailyLimit",
        "LimitExceeded.AppCountryOrRegionDailyLimit",
        "LimitExceeded.AppCountryOrRegionInBlacklist",
        "LimitExceeded.DailyLimit",
        "LimitExceeded.PhoneNumberCountLimit",
        "InternalError.RequestTimeException",
        "InternalError.SigVerificationFail",
        "InternalError.SigFieldMissing",
        "InternalError.JsonParseFail",
        "InternalError.RestApiInterfaceNotExist",
    }
)
_REFUSED_PREFIXES = (
    "AuthFailure.",  # SignatureFailure, SecretIdNotFound, SignatureExpire...
    "UnauthorizedOperation.",  # SmsSdkAppIdVerifyFail, ServiceSuspendDueToArrears...
    "FailedOperation.",  # PhoneNumberInBlacklist, InsufficientBalanceInSmsPackage, Signature/Template...
    "InvalidParameter",  # InvalidParameterValue.IncorrectPhoneNumber, ...TemplateParameterLengthLimit
    "MissingParameter",
    "UnsupportedOperation",
)


def channel_error(code: str, message: str = "", *, answered: bool) -> ChannelError:
    """Tencent's ``code`` as ChannelBusy or ChannelRefused. ``answered``: Tencent answered about this
    number (SendStatusSet), rather than the request failing as a whole or on its way."""
    kind: type[ChannelError]
    if code in _BUSY or code.startswith(_BUSY_PREFIXES):
        kind = ChannelBusy
    elif code in _REFUSED or code.startswith(_REFUSED_PREFIXES):
        kind = ChannelRefused
    else:
        # A code not known here. On a request that failed as a whole or on its way, the same channel is
        # tried again (as for SNS); a number Tencent answered for with a refusal is unlikely to be taken
        # the next time, and the other channel reaches the responder at once.
        kind = ChannelRefused if answered else ChannelBusy
    return kind(PROVIDER, code, message)


class TencentSms:
    """SmsChannel over Tencent Cloud SMS. Build one per Lambda instance: it holds the SDK client (and its
    connection pool)."""

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        *,
        app_id: str,
        sign_name: str,
        template_codes: Mapping[str, str],
        region: str = DEFAULT_REGION,
        endpoint: str = "",
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        if not secret_id or not secret_key:
            raise ValueError("Tencent Cloud SMS needs a secret_id and a secret_key")
        if not app_id or not sign_name:
            raise ValueError("Tencent Cloud SMS needs the SMS application (TENCENT_SMS_APP_ID) and signature")
        if not 0 < connect_timeout_s <= CONNECT_TIMEOUT_S or not 0 < read_timeout_s <= READ_TIMEOUT_S:
            raise ValueError(
                f"SMS timeouts must be within {CONNECT_TIMEOUT_S} s to connect and {READ_TIMEOUT_S} s to "
                f"read: {connect_timeout_s}, {read_timeout_s}"
            )
        scheme, host = endpoint_parts(endpoint, DEFAULT_ENDPOINT)
        self.app_id = app_id
        self.sign_name = sign_name
        self.template_codes = dict(template_codes)
        # HttpProfile's protocol sets the scheme (3.1.x: "http" or "https"); its reqTimeout goes to
        # requests as is, so a (connect, read) pair bounds each. No retryer: the SDK sends once, and the
        # rescue's notice lease decides when to retry.
        http_profile = HttpProfile(
            protocol=scheme,
            endpoint=host,
            reqMethod="POST",
            reqTimeout=(connect_timeout_s, read_timeout_s),
        )
        self.client = SmsClient(
            credential.Credential(secret_id, secret_key), region, ClientProfile(httpProfile=http_profile)
        )

    def template_id(self, text: Text) -> str:
        code = self.template_codes.get(text.template)
        if not code:
            # A deployment mistake (SMS_TEMPLATES lacks it), never a message to drop in silence.
            raise ValueError(
                f"no Tencent Cloud SMS template id for template {text.template!r} (SMS_TEMPLATES)"
            )
        return code

    def send(self, phone: str, text: Text) -> None:
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [phone]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = self.template_id(text)
        request.TemplateParamSet = text.ordered()
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as error:
            code = str(error.code or "ClientNetworkError")
            raise channel_error(code, str(error.message or "")[:300], answered=False) from error
        statuses = response.SendStatusSet or []
        if not statuses:
            # Taken or not, Tencent did not say: the lease's retry may text twice, which beats never.
            raise ChannelBusy(PROVIDER, "EmptySendStatusSet", f"request {response.RequestId}")
        status = statuses[0]
        if status.Code == SENT:
            return
        raise channel_error(str(status.Code or "EmptySendStatus"), str(status.Message or ""), answered=True)
