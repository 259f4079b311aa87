"""The cn profile on one machine: the providers' stand-ins started, their credentials in the embedded
Secrets Manager (as ops put the real ones in the ProviderCredentials secret), and the functions pointed at
them through the same settings a deployment uses (shared/config.py). SMS goes through Alibaba Cloud SMS's
stand-in, or Tencent Cloud SMS's with SMS_PROVIDER=tencent; push through JPush's."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

from local_runtime.providers import Serving, alibaba_sms, jpush, tencent_sms

LOCAL_TENCENT_APP_ID = "1400000000"  # Tencent SMS application ids are ten digits from 1400000000 up


@dataclass
class LocalProviders:
    sms_provider: str
    servings: list[Serving]
    jpush: jpush.JpushStandIn

    def stop(self) -> None:
        for serving in self.servings:
            serving.stop()


def start(secretsmanager: object) -> LocalProviders:
    """Start the stand-ins and set the environment the functions read (before they first read it)."""
    sms_provider = os.environ.get("SMS_PROVIDER", "alibaba")
    if sms_provider not in ("alibaba", "tencent"):
        raise ValueError(
            f"SMS_PROVIDER={sms_provider!r}: the cn profile sends SMS through alibaba or tencent"
        )
    credentials = {
        "alibaba": {
            "access_key_id": "LTAI" + secrets.token_hex(10),
            "access_key_secret": secrets.token_hex(15),
        },
        "tencent": {"secret_id": "AKID" + secrets.token_hex(16), "secret_key": secrets.token_hex(16)},
        "jpush": {"app_key": secrets.token_hex(12), "master_secret": secrets.token_hex(12)},
    }
    sign_name = os.environ.get("SMS_SIGN_NAME", "救在身边")
    alibaba_codes = alibaba_sms.local_template_codes()
    tencent_codes = tencent_sms.local_template_codes()
    alibaba = alibaba_sms.start(
        credentials["alibaba"]["access_key_id"],
        credentials["alibaba"]["access_key_secret"],
        sign_name=sign_name,
        template_codes=alibaba_codes,
    )
    tencent = tencent_sms.start(
        credentials["tencent"]["secret_id"],
        credentials["tencent"]["secret_key"],
        app_id=LOCAL_TENCENT_APP_ID,
        sign_name=sign_name,
        template_codes=tencent_codes,
    )
    push = jpush.JpushStandIn(credentials["jpush"]["app_key"], credentials["jpush"]["master_secret"])
    push_serving = jpush.start(push)
    secret_arn = secretsmanager.create_secret(  # type: ignore[attr-defined]
        Name="rescue-nearby-provider-credentials", SecretString=json.dumps(credentials)
    )["ARN"]
    os.environ.update(
        {
            "SMS_PROVIDER": sms_provider,
            "PUSH_PROVIDER": "jpush",
            "PROVIDER_SECRET_ID": secret_arn,
            "SMS_SIGN_NAME": sign_name,
            "SMS_TEMPLATES": json.dumps(alibaba_codes if sms_provider == "alibaba" else tencent_codes),
            "TENCENT_SMS_APP_ID": LOCAL_TENCENT_APP_ID,
            "ALIBABA_SMS_ENDPOINT": alibaba.url,
            "TENCENT_SMS_ENDPOINT": tencent.url,
            "JPUSH_ENDPOINT": push_serving.url,
        }
    )
    return LocalProviders(sms_provider, [alibaba, tencent, push_serving], push)
