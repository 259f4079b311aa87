"""The profile's settings: a deployment that names an unknown profile or provider, or pairs SNS with a
mainland provider (SNS pushes only to SNS endpoints), stops at start-up with the variable's name."""

from __future__ import annotations

import pytest

from shared.config import SettingError, Settings


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"DEPLOYMENT_PROFILE": "china"}, "DEPLOYMENT_PROFILE"),
        ({"SMS_PROVIDER": "aliyun", "PUSH_PROVIDER": "jpush"}, "SMS_PROVIDER"),
        ({"SMS_PROVIDER": "alibaba"}, "PUSH_PROVIDER=sns"),
        ({"PUSH_PROVIDER": "jpush"}, "SMS_PROVIDER=sns"),
        ({"OIDC_LEEWAY_SECONDS": "120"}, "OIDC_LEEWAY_SECONDS"),
    ],
)
def test_a_setting_that_cannot_work_stops_the_function_naming_it(environ, named):
    with pytest.raises(SettingError, match=named):
        Settings.from_environ(environ)


@pytest.mark.parametrize("sms", ["alibaba", "tencent"])
def test_the_cn_pairs_and_the_global_default_are_accepted(sms):
    cn = Settings.from_environ({"DEPLOYMENT_PROFILE": "cn", "SMS_PROVIDER": sms, "PUSH_PROVIDER": "jpush"})
    assert (cn.profile, cn.sms_provider, cn.push_provider) == ("cn", sms, "jpush")
    default = Settings.from_environ({})
    assert (default.profile, default.sms_provider, default.push_provider, default.oidc_roles_claim) == (
        "global",
        "sns",
        "sns",
        "groups",
    )
