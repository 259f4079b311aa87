"""The cn profile (infra/profile.py): the stack for the AWS China regions (partition aws-cn), where there
are no Cognito user pools or Cognito authorizers, no SNS SMS or mobile push, no X-Ray integration.

One synthesis of the cn template per session (``synthesized_cn``, the default region cn-northwest-1, two
approved SMS template codes); the global one (``synthesized``) for what must not change there."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import constants as c
from infra import profile as p
from infra.lint import lint_template, synthesized_regions
from shared.api.http import ErrorResponse
from shared.config import Settings
from shared.logic.messages import TEMPLATES
from shared.routes import ROUTES, Route
from tests.infrastructure.conftest import CN_CONTEXT, CN_SMS_TEMPLATES, TEST_CONTEXT, Synthesized
from tests.infrastructure.test_infra_api import methods, route_id
from tests.infrastructure.test_infra_compliance import (
    BUCKET_DEPLOYMENT,
    CENTRE_SECRET_HOLDERS,
    CREDIT_EXPORT_ACKS,
    FUNCTION_SCOPES,
    PHOTO_ACK,
    PHOTO_SIGNERS,
    PUBLIC_METHOD_ACKS,
    WEB_ACKS,
    acknowledgements,
    rule_id,
    unacknowledged_findings,
)
from tests.infrastructure.test_infra_functions import ALL_FUNCTIONS, function_id

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# Written out, not derived from infra/: the functions whose handlers call shared.wiring's notifier(),
# text_messages() or push_registry() (test_the_senders_are_the_wiring_users checks the source says so).
SENDERS = {
    "rescue_sos",
    "rescue_incidents",
    "rescue_steps",
    "teaching_registrations",
    "certification_reminders",
    "responders",
    "dispatch_inbound",  # wave 1 of a 120 centre's incident
}
SENDING_FACTORIES = re.compile(r"\bwiring\.(notifier|text_messages|push_registry)\b")
CHANNEL_VARIABLES = {"SMS_PROVIDER", "PUSH_PROVIDER", "SMS_SIGN_NAME", "SMS_TEMPLATES", "PROVIDER_SECRET_ID"}
TENCENT_VARIABLES = {"TENCENT_SMS_APP_ID", "TENCENT_SMS_REGION"}
OIDC_PARAMETERS = ("OidcIssuer", "OidcAudience", "OidcJwksUrl", "OidcRolesClaim")


def statements(s: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id of the policy, statement) for every IAM statement in the template."""
    for logical_id, resource in s.resources.items():
        document = resource["Properties"].get("PolicyDocument") or resource["Properties"].get("KeyPolicy")
        for statement in (document or {}).get("Statement", []):
            yield logical_id, statement
        inline = resource["Properties"].get("Policies", []) if resource["Type"] == "AWS::IAM::Role" else []
        for policy in inline:
            for statement in policy["PolicyDocument"]["Statement"]:
                yield logical_id, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def environment(s: Synthesized, logical_id: str) -> dict[str, Any]:
    return dict(s.resources[logical_id]["Properties"].get("Environment", {}).get("Variables", {}))


def role_policies(s: Synthesized, function_logical_id: str) -> list[dict[str, Any]]:
    """The statements of the policies attached to a function's role."""
    role = s.resources[function_logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for resource in s.of_type("AWS::IAM::Policy").values()
        if {"Ref": role} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def authorizer_function(s: Synthesized) -> str:
    return s.logical_id("Identity/Authorizer/Function/Resource")


def provider_secret(s: Synthesized) -> str:
    return s.logical_id("ProviderCredentials/Secret/Resource")


# --- what the China regions lack ---------------------------------------------------------------------


def test_no_cognito_resource(synthesized_cn: Synthesized) -> None:
    types = {r["Type"] for r in synthesized_cn.resources.values()}
    assert not [t for t in types if t.startswith("AWS::Cognito::")]
    assert "UserPoolId" not in synthesized_cn.template["Outputs"]


def test_no_arn_of_the_aws_partition_written_out(synthesized_cn: Synthesized) -> None:
    """Every ARN from the stack's partition (Ref AWS::Partition, or aws-cn for this region-specific stack):
    managed policies, service ARNs, the state machine's, the authorizer's URI."""
    text = synthesized_cn.template_path.read_text(encoding="utf-8")
    assert "arn:aws:" not in text
    assert "arn:aws:" not in json.dumps(synthesized_cn.template)
    managed = [
        arn
        for role in synthesized_cn.of_type("AWS::IAM::Role").values()
        for arn in role["Properties"].get("ManagedPolicyArns", [])
    ]
    assert managed and all({"Ref": "AWS::Partition"} in arn["Fn::Join"][1] for arn in managed)


def test_synthesized_for_a_china_region(synthesized_cn: Synthesized) -> None:
    assert synthesized_regions(synthesized_cn.outdir) == {p.CN_DEFAULT_REGION}
    assert synthesized_cn.stack.region == "cn-northwest-1"
    assert synthesized_cn.stack.partition == "aws-cn"


def test_no_sns_sms_or_mobile_push(synthesized_cn: Synthesized) -> None:
    for logical_id, statement in statements(synthesized_cn):
        actions = set(as_list(statement["Action"]))
        platform = {"sns:CreatePlatformEndpoint", "sns:CreatePlatformApplication", "sns:*"}
        assert not platform & actions, logical_id
        if "sns:Publish" in actions:  # only to the stack's own topics
            assert "*" not in as_list(statement["Resource"]), logical_id
            assert all("Ref" in r for r in as_list(statement["Resource"])), logical_id
    text = json.dumps(synthesized_cn.template)
    assert ":app/" not in text  # no platform application ARN
    assert "PhoneNumber" not in text  # SNS's SMS metrics (alarm, dashboard)
    assert "NumberOfNotificationsDelivered" not in text
    subscriptions = synthesized_cn.of_type("AWS::SNS::Subscription").values()
    assert not [s for s in subscriptions if s["Properties"]["Protocol"] == "sms"]
    alarms = {a["Properties"]["AlarmName"] for a in synthesized_cn.of_type("AWS::CloudWatch::Alarm").values()}
    assert f"{c.STACK_NAME}-SmsDeliveryFailed" not in alarms
    assert not [a for a in alarms if "PushDeliveryFailed" in a]
    assert not {"PUSH_APPLICATIONS"} & {
        k for f in synthesized_cn.of_type("AWS::Lambda::Function") for k in environment(synthesized_cn, f)
    }


def test_no_xray_tracing(synthesized_cn: Synthesized) -> None:
    functions = synthesized_cn.of_type("AWS::Lambda::Function")
    assert len(functions) == len(ALL_FUNCTIONS) + 2  # and the authorizer, and the pages' BucketDeployment
    for logical_id, function in functions.items():
        assert function["Properties"].get("TracingConfig", {}).get("Mode") != "Active", logical_id
    (stage,) = synthesized_cn.of_type("AWS::ApiGateway::Stage").values()
    assert stage["Properties"].get("TracingEnabled") is not True
    (machine,) = synthesized_cn.of_type("AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"].get("TracingConfiguration", {}).get("Enabled") is not True
    for logical_id, statement in statements(synthesized_cn):
        assert not [a for a in as_list(statement["Action"]) if a.startswith("xray:")], logical_id


def test_no_feature_outside_the_region(synthesized_cn: Synthesized) -> None:
    """Data residency: nothing replicates out of the region (no global tables, replicas, cross-region
    replication of buckets, secrets or keys), and no Lambda function URL (not in the China regions)."""
    types = {r["Type"] for r in synthesized_cn.resources.values()}
    assert not types & {"AWS::DynamoDB::GlobalTable", "AWS::Lambda::Url", "AWS::Backup::BackupPlan"}
    for logical_id, resource in synthesized_cn.resources.items():
        props = resource["Properties"]
        assert "Replicas" not in props and "ReplicationConfiguration" not in props, logical_id
        assert "ReplicaRegions" not in props and props.get("MultiRegion") is not True, logical_id
    for definition in synthesized_cn.of_type("AWS::StepFunctions::StateMachine").values():
        assert "states:::http:invoke" not in json.dumps(definition)  # no HTTPS task in the China regions


# --- identity: the OIDC TOKEN authorizer ------------------------------------------------------------


def the_authorizer(s: Synthesized) -> tuple[str, dict[str, Any]]:
    ((logical_id, authorizer),) = s.of_type("AWS::ApiGateway::Authorizer").items()
    return logical_id, authorizer["Properties"]


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_signed_in_routes_use_the_token_authorizer(synthesized_cn: Synthesized, route: Route) -> None:
    props = methods(synthesized_cn)[(route.method, route.path)]
    if route.anonymous:
        assert props["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in props
    else:
        logical_id, authorizer = the_authorizer(synthesized_cn)
        assert props["AuthorizationType"] == "CUSTOM"
        assert props["AuthorizerId"] == {"Ref": logical_id}
        assert authorizer["Type"] == "TOKEN"


def test_the_authorizer_reads_the_bearer_token_and_caches_30_seconds(synthesized_cn: Synthesized) -> None:
    _, authorizer = the_authorizer(synthesized_cn)
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["AuthorizerResultTtlInSeconds"] == 30
    # The cache and the authorizer's leeway together: never honoured more than 60 s past exp.
    leeway = int(environment(synthesized_cn, authorizer_function(synthesized_cn))["OIDC_LEEWAY_SECONDS"])
    assert leeway == Settings.from_environ({"OIDC_LEEWAY_SECONDS": str(leeway)}).oidc_leeway_s
    assert authorizer["AuthorizerResultTtlInSeconds"] + leeway <= 60
    pattern = re.compile(authorizer["IdentityValidationExpression"])
    assert pattern.fullmatch("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_x")
    assert not pattern.fullmatch("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln")  # no scheme
    assert not pattern.fullmatch("Basic dXNlcjpwYXNz")
    # API Gateway invokes exactly the authorizer function.
    uri = json.dumps(authorizer["AuthorizerUri"])
    assert authorizer_function(synthesized_cn) in uri and ":lambda:path/2015-03-31/functions/" in uri


def test_the_authorizer_function(synthesized_cn: Synthesized) -> None:
    logical_id = authorizer_function(synthesized_cn)
    props = synthesized_cn.resources[logical_id]["Properties"]
    assert props["Handler"] == "functions.authorizer.handler.lambda_handler"
    route_function = synthesized_cn.resources[function_id(synthesized_cn, "health")]["Properties"]
    assert props["Code"] == route_function["Code"]  # the one code asset
    assert props["Layers"] == route_function["Layers"]  # the one layer
    assert props["Architectures"] == route_function["Architectures"]
    env = environment(synthesized_cn, logical_id)
    for parameter, variable in zip(
        OIDC_PARAMETERS, ("OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_JWKS_URL", "OIDC_ROLES_CLAIM"), strict=True
    ):
        assert env[variable] == {"Ref": parameter}
    assert env["DEPLOYMENT_PROFILE"] == "cn"
    assert not CHANNEL_VARIABLES & set(env)
    # Its own logs and nothing else.
    actions = {a for s in role_policies(synthesized_cn, logical_id) for a in as_list(s["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_the_issuer_is_a_deploy_time_parameter_without_default(synthesized_cn: Synthesized) -> None:
    """Synthesis needs no issuer; a deploy without one fails (CloudFormation: a parameter without a
    default must be given), so the API never runs with nothing to check tokens against."""
    parameters = synthesized_cn.template["Parameters"]
    for name in ("OidcIssuer", "OidcAudience", "OidcJwksUrl"):
        assert "Default" not in parameters[name], name
        assert parameters[name]["Type"] == "String"
    for name in ("OidcIssuer", "OidcJwksUrl"):
        pattern = re.compile(parameters[name]["AllowedPattern"])
        assert pattern.fullmatch("https://rescue.authing.cn/oidc")
        assert not pattern.fullmatch("http://rescue.authing.cn/oidc") and not pattern.fullmatch("")
    assert not re.fullmatch(parameters["OidcAudience"]["AllowedPattern"], "")
    assert parameters["OidcRolesClaim"]["Default"] == Settings().oidc_roles_claim


def test_refusals_before_a_handler_answer_in_the_api_error_shape(synthesized_cn: Synthesized) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synthesized_cn.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    assert set(responses) >= {"UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_FAILURE"}
    unauthorized = responses["UNAUTHORIZED"]
    assert unauthorized["StatusCode"] == "401"
    body = ErrorResponse.model_validate_json(unauthorized["ResponseTemplates"]["application/json"])
    assert body.error.code == "unauthorized"
    assert unauthorized["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"
    for kind in ("UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"):
        ErrorResponse.model_validate_json(responses[kind]["ResponseTemplates"]["application/json"])


# --- messages: the providers, their settings, their credentials ---------------------------------------


def test_the_senders_are_the_wiring_users() -> None:
    """SENDERS is what the handlers do: the functions whose code calls notifier(), text_messages() or
    push_registry() (shared/wiring.py), and what FunctionGrants.sends_messages says."""
    in_source = {
        name
        for name in ALL_FUNCTIONS
        if any(
            SENDING_FACTORIES.search(module.read_text(encoding="utf-8"))
            for module in (c.REPO_ROOT / "functions" / name).rglob("*.py")
        )
    }
    assert in_source == SENDERS
    assert {name for name, grants in c.FUNCTION_GRANTS.items() if grants.sends_messages} == SENDERS


def test_only_the_senders_may_read_the_provider_credentials(synthesized_cn: Synthesized) -> None:
    secret = provider_secret(synthesized_cn)
    readers = {
        logical_id
        for logical_id, statement in statements(synthesized_cn)
        if {"Ref": secret} in as_list(statement["Resource"])
    }
    policies = synthesized_cn.of_type("AWS::IAM::Policy")
    sender_policies = set()
    for name in SENDERS:
        props = synthesized_cn.resources[function_id(synthesized_cn, name)]["Properties"]
        role = {"Ref": props["Role"]["Fn::GetAtt"][0]}
        (policy,) = [k for k, r in policies.items() if role in r["Properties"]["Roles"]]
        sender_policies.add(policy)
    assert readers == sender_policies
    for name in ALL_FUNCTIONS:
        logical_id = function_id(synthesized_cn, name)
        env = environment(synthesized_cn, logical_id)
        if name in SENDERS:
            assert env["PROVIDER_SECRET_ID"] == {"Ref": secret}, name
            granted = role_policies(synthesized_cn, logical_id)
            reads = [s for s in granted if {"Ref": secret} in as_list(s["Resource"])]
            assert {a for s in reads for a in as_list(s["Action"])} == {
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
            }
        else:
            assert "PROVIDER_SECRET_ID" not in env, name
    # No credential in the template: the stack makes a placeholder, ops put the JSON in after deploy.
    props = synthesized_cn.resources[secret]["Properties"]
    assert "SecretString" not in props
    assert set(json.loads(props["GenerateSecretString"]["SecretStringTemplate"])) == {"replace_with"}
    assert synthesized_cn.template["Outputs"]["ProviderCredentialsSecretArn"]["Value"] == {"Ref": secret}


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_channel_settings_exactly_where_messages_are_sent(synthesized_cn: Synthesized, name: str) -> None:
    env = environment(synthesized_cn, function_id(synthesized_cn, name))
    assert env["DEPLOYMENT_PROFILE"] == "cn"
    assert not TENCENT_VARIABLES & set(env)  # alibaba, the default provider
    if name not in SENDERS:
        assert not CHANNEL_VARIABLES & set(env)
        return
    settings = Settings.from_environ({k: v for k, v in env.items() if isinstance(v, str)})
    assert (settings.profile, settings.sms_provider, settings.push_provider) == ("cn", "alibaba", "jpush")
    assert settings.sms_templates == CN_SMS_TEMPLATES
    assert set(settings.sms_templates) <= set(TEMPLATES)
    assert settings.sms_sign_name == Settings().sms_sign_name


def test_fan_out_stays_on_the_sns_topics(synthesized_cn: Synthesized) -> None:
    topics = synthesized_cn.of_type("AWS::SNS::Topic")
    assert len(topics) == 3  # dispatch centre, AED upkeep, ops alarms
    env = environment(synthesized_cn, function_id(synthesized_cn, "rescue_steps"))
    assert env["DISPATCH_TOPIC_ARN"]["Ref"] in topics


# --- the Lambda architecture and the layer ------------------------------------------------------------


def test_lambda_architecture_is_the_profiles(synthesized_cn: Synthesized, synthesized: Synthesized) -> None:
    for s, architecture in ((synthesized_cn, "x86_64"), (synthesized, "arm64")):
        # Ours; CDK's BucketDeployment handler (the web pages' upload, deploy time only) is CDK's choice.
        functions = [
            f
            for k, f in s.of_type("AWS::Lambda::Function").items()
            if not k.startswith("CustomCDKBucketDeployment")
        ]
        assert {tuple(f["Properties"]["Architectures"]) for f in functions} == {(architecture,)}
        (layer,) = [
            v for k, v in s.of_type("AWS::Lambda::LayerVersion").items() if "AwsCliLayer" not in k
        ]  # not BucketDeployment's AWS CLI layer
        assert layer["Properties"]["CompatibleArchitectures"] == [architecture]
    assert p.DEFAULT_ARCHITECTURE == {"global": "arm64", "cn": "x86_64"}


@pytest.mark.parametrize(
    ("context", "architecture"),
    [
        ({"profile": "cn"}, "x86_64"),
        ({"profile": "cn", "lambda_architecture": "arm64"}, "arm64"),
        ({}, "arm64"),
        ({"lambda_architecture": "x86_64"}, "x86_64"),
    ],
)
def test_the_architecture_setting(context: dict[str, str], architecture: str) -> None:
    assert p.from_context(context.get, {}).architecture == architecture


def test_the_layer_follows_the_architecture() -> None:
    from infra.wheels import fits, install_command, layer_hash

    assert layer_hash("arm64") != layer_hash("x86_64")
    command = install_command(Path("/t"), Path("/w"), "x86_64")
    assert command[command.index("--platform") + 1] == "manylinux2014_x86_64"
    wheel = "cryptography-50.0.2-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    assert fits(wheel, "x86_64") and not fits(wheel, "arm64")
    assert fits("pyjwt-2.15.1-py3-none-any.whl", "arm64")


# --- the profile's context ------------------------------------------------------------------------------


def test_the_region_comes_from_context_then_the_cli() -> None:
    cn = {"profile": "cn"}.get
    assert p.from_context(cn, {}).region == "cn-northwest-1"
    assert p.from_context(cn, {"CDK_DEFAULT_REGION": "cn-north-1"}).region == "cn-north-1"
    assert p.from_context(cn, {"CDK_DEFAULT_REGION": "us-east-1"}).region == "cn-northwest-1"
    context = {"profile": "cn", "region": "cn-north-1"}
    assert p.from_context(context.get, {"CDK_DEFAULT_REGION": "cn-northwest-1"}).region == "cn-north-1"


def test_tencent_settings() -> None:
    context = {"profile": "cn", "sms_provider": "tencent", "tencent_sms_app_id": "1400123456"}
    profile = p.from_context(context.get, {})
    from infra.constructs.functions import channel_environment

    env = channel_environment(profile)
    settings = Settings.from_environ(env)
    assert (settings.sms_provider, settings.tencent_sms_app_id) == ("tencent", "1400123456")
    assert settings.tencent_sms_region == Settings().tencent_sms_region
    assert not TENCENT_VARIABLES & set(channel_environment(p.from_context({"profile": "cn"}.get, {})))


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"profile": "china"}, "profile"),
        ({"profile": "cn", "region": "ap-east-1"}, "region"),
        ({"region": "cn-north-1"}, "cn profile"),  # a cn value in the global profile
        ({"sms_provider": "tencent"}, "cn profile"),
        ({"profile": "cn", "sms_provider": "twilio"}, "sms_provider"),
        ({"profile": "cn", "sms_provider": "tencent"}, "tencent_sms_app_id"),
        ({"profile": "cn", "tencent_sms_app_id": "1400123456"}, "tencent_sms_app_id"),
        ({"profile": "cn", "sms_templates": '{"no_such_template": "SMS_1"}'}, "sms_templates"),
        ({"profile": "cn", "sms_templates": '{"rescue_alert": "SMS 1; drop"}'}, "sms_templates"),
        ({"profile": "cn", "sms_templates": "[1]"}, "sms_templates"),
        ({"profile": "cn", "lambda_architecture": "riscv64"}, "lambda_architecture"),
    ],
)
def test_malformed_profile_context_fails_synthesis(context: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        p.from_context(context.get, {})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("push_applications", '{"fcm": "arn:aws-cn:sns:cn-north-1:123456789012:app/GCM/x"}'),
        ("cognito_ses_identity", "rescue-nearby.cn"),
        ("oauth_callback_urls", "https://app.rescue-nearby.cn/cb"),
        ("ops_alarm_endpoint", "+8613800138000"),  # an SMS subscription
    ],
)
def test_global_only_context_fails_cn_synthesis(key: str, value: str, tmp_path: Path) -> None:
    from infra.app import build_app

    with pytest.raises(ValueError, match=key):
        build_app(outdir=str(tmp_path), context={**CN_CONTEXT, key: value})


# --- cfn-lint and cdk-nag ------------------------------------------------------------------------------


def test_cfn_lint_clean_in_both_china_regions(synthesized_cn: Synthesized) -> None:
    assert p.lint_regions(p.CN) == ("cn-north-1", "cn-northwest-1")
    assert [str(m) for m in lint_template(synthesized_cn.template_path, p.CN_REGIONS)] == []


def test_cfn_lint_knows_what_the_china_regions_lack(synthesized: Synthesized) -> None:
    """The check above can fail: the global template (Cognito) is refused in both China regions."""
    found = {(m.rule.id, str(m.message)) for m in lint_template(synthesized.template_path, p.CN_REGIONS)}
    assert ("E3006", "Resource type 'AWS::Cognito::UserPool' does not exist in 'cn-north-1'") in found
    assert ("E3006", "Resource type 'AWS::Cognito::UserPool' does not exist in 'cn-northwest-1'") in found


SIGNED_IN_METHOD_ACKS = {
    (f"Http/Api/Default{r.path}/{r.method}", "AwsSolutions-COG4") for r in ROUTES if not r.anonymous
}
# Every finding the cn stack accepts. Unlike the global profile: no wildcard on any function role (no
# X-Ray, no SNS SMS), the authorizer function, the provider secret, Step Functions without X-Ray, and the
# signed-in methods' COG4 (the China regions have no Cognito authorizer).
EXPECTED_CN_ACKS = {
    # The web pages: an OAI instead of OAC (CFR7), the IAM certificate by override (CFR4); the asset
    # bucket's ARN written out for the cn stack's region.
    *WEB_ACKS,
    ("Web/Distribution", "AwsSolutions-CFR7"),
    (
        f"{BUCKET_DEPLOYMENT}/ServiceRole",
        f"AwsSolutions-IAM5[Resource::arn:aws-cn:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
        f"{p.CN_DEFAULT_REGION}/*]",
    ),
    *{(f"Functions/{name}/Function", "AwsSolutions-L1") for name in FUNCTION_SCOPES},
    ("Identity/Authorizer/Function", "AwsSolutions-L1"),
    (
        "Http/Api/CloudWatchRole",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
    ),
    ("Workflow/StateMachine/Role", "AwsSolutions-IAM5[Resource::*]"),
    ("Workflow/StateMachine", "AwsSolutions-SF2"),
    ("Schedules/DeadLetters", "AwsSolutions-SQS3"),
    ("Schedules/FailedRuns", "AwsSolutions-SQS3"),
    ("StatusWebhooks/StreamFailures", "AwsSolutions-SQS3"),
    ("Cockpit/StreamFailures", "AwsSolutions-SQS3"),  # the cockpit summaries' mappings' on-failure queue
    ("CheckinSecret/Secret", "AwsSolutions-SMG4"),
    ("ProviderCredentials/Secret", "AwsSolutions-SMG4"),
    *CREDIT_EXPORT_ACKS,
    *{(f"Functions/{name}/Role", PHOTO_ACK) for name in PHOTO_SIGNERS},
    # The centres' secrets' prefix: the cn stack knows its region, so CDK writes partition and region out.
    *{
        (
            f"Functions/{name}/Role",
            f"AwsSolutions-IAM5[Resource::arn:aws-cn:secretsmanager:{p.CN_DEFAULT_REGION}:<AWS::AccountId>:"
            f"secret:{c.STACK_NAME}/dispatch-centres/*]",
        )
        for name in CENTRE_SECRET_HOLDERS
    },
    *PUBLIC_METHOD_ACKS,
    *SIGNED_IN_METHOD_ACKS,
}


def test_cdk_nag_clean(synthesized_cn: Synthesized) -> None:
    report = json.loads((synthesized_cn.outdir / "validation-report.json").read_text(encoding="utf-8"))
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []
    found = list(acknowledgements(synthesized_cn))
    assert {(path, rule_id(rule)) for path, rule, _ in found} == EXPECTED_CN_ACKS
    for path, rule, reason in found:
        assert isinstance(reason, str) and len(reason.split()) >= 8, (path, rule, reason)
    reasons = {(path, rule): reason for path, rule, reason in found}
    assert "X-Ray" not in reasons[("Workflow/StateMachine/Role", "AwsSolutions-IAM5[Resource::*]")]
    assert "China" in reasons[("Http/Api/Default/v1/incidents/{incident_id}/GET", "AwsSolutions-COG4")]


def test_every_cn_acknowledgement_is_needed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With acknowledgements off, cdk-nag reports exactly the acknowledged findings (and the cn stack
    synthesizes with nothing but the profile set)."""
    context = {**TEST_CONTEXT, "profile": "cn"}
    assert unacknowledged_findings(monkeypatch, tmp_path, context) == EXPECTED_CN_ACKS


# --- the global profile keeps what it had ----------------------------------------------------------------


def test_the_global_profile_is_unchanged_where_it_matters(synthesized: Synthesized) -> None:
    assert synthesized.stack.profile == p.GLOBAL_PROFILE
    assert synthesized_regions(synthesized.outdir) == {"unknown-region"}
    ((_, authorizer),) = synthesized.of_type("AWS::ApiGateway::Authorizer").items()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert synthesized.of_type("AWS::Cognito::UserPool")
    assert "Parameters" not in synthesized.template or not set(OIDC_PARAMETERS) & set(
        synthesized.template["Parameters"]
    )
    # Only the CORS headers on API Gateway's own answers, for the web pages (test_infra_web.py).
    responses = synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
    assert {r["Properties"]["ResponseType"] for r in responses} == {"DEFAULT_4XX", "DEFAULT_5XX"}
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["TracingEnabled"] is True
    for logical_id in synthesized.of_type("AWS::Lambda::Function"):
        env = environment(synthesized, logical_id)
        assert not ({"DEPLOYMENT_PROFILE"} | CHANNEL_VARIABLES) & set(env), logical_id
    assert "ProviderCredentials" not in json.dumps(synthesized.template)
    alarms = {a["Properties"]["AlarmName"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()}
    assert f"{c.STACK_NAME}-SmsDeliveryFailed" in alarms
