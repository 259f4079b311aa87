"""cdk-nag (AWS Solutions) and cfn-lint: zero findings, and every acknowledgement reasoned and needed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from infra import constants as c
from infra.lint import lint_template
from shared.routes import ROUTES
from tests.infrastructure.conftest import TEST_CONTEXT, Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"

# Every finding this stack accepts: (construct path below the stack, rule id). A new acknowledgement must
# be added here on purpose.
FUNCTION_SCOPES = (
    "Health",
    "Responders",
    "Aed_Registry",
    "Rescue_Sos",
    "Rescue_Incidents",
    "Rescue_Steps",
    "Aed_Upkeep",
    "Aed_Coverage",
    "Aed_Upkeep_Daily",
    "Aed_Import",
    "Aed_Faults",
    "Teaching_Courses",
    "Teaching_Registrations",
    "Teaching_Checkins",
    "Certification_Exams",
    "Certification_Certificates",
    "Certification_Reminders",
    "Dispatch_Centres",
    "Dispatch_Inbound",
    "Dispatch_Changes",
    "Dispatch_Webhooks",
    "Cockpit",
    "Cockpit_Changes",
    "Cockpit_Training",
    "Credits",
    "Credits_Export",
    "Debriefs",
    "Teams",
)
FUNCTION_ACKS = {
    (f"Functions/{name}/{part}", rule)
    for name in FUNCTION_SCOPES
    for part, rule in (("Role", "AwsSolutions-IAM5[Resource::*]"), ("Function", "AwsSolutions-L1"))
}
# The functions whose wildcard (IAM5) also covers sns:Publish to phone numbers and app endpoints.
DIRECT_PUBLISHERS = {
    "Rescue_Sos",
    "Rescue_Incidents",
    "Rescue_Steps",
    "Teaching_Registrations",
    "Certification_Reminders",
    "Dispatch_Inbound",
}
# Signing report photo uploads and views: a wildcard under the photo bucket's reports prefix.
PHOTO_ACK = "AwsSolutions-IAM5[Resource::<ReportPhotosBucket.Arn>/aed-reports/*]"
PHOTO_SIGNERS = {"Rescue_Incidents", "Aed_Faults"}
# The dispatch centres' secrets: one per centre, made at run time, all under the stack's prefix.
CENTRE_SECRETS_ACK = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:"
    f"secret:{c.STACK_NAME}/dispatch-centres/*]"
)
CENTRE_SECRET_HOLDERS = {"Dispatch_Centres", "Dispatch_Inbound", "Dispatch_Webhooks"}
# The credits exports: the signing secret is not rotated on a schedule; the files under their prefix.
CREDIT_EXPORT_ACKS = {
    ("CreditExports/SigningSecret", "AwsSolutions-SMG4"),
    (
        "Functions/Credits_Export/Role",
        "AwsSolutions-IAM5[Resource::<CreditExportsBucket.Arn>/credit-exports/*]",
    ),
}
PUBLIC_METHOD_ACKS = {
    (f"Http/Api/Default{r.path}/{r.method}", rule)
    for r in ROUTES
    if r.anonymous
    for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4")
}
# The web pages (infra/constructs/web.py): the distribution's choices and CDK's BucketDeployment handler
# (one singleton per stack). The API's CORS preflights (API Gateway's mock OPTIONS, no authorizer) need
# none: cdk-nag's APIG4 and COG4 leave OPTIONS methods out, so an acknowledgement there would be stale.
BUCKET_DEPLOYMENT = "Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB"
WEB_DEPLOYMENT_ACKS = {
    (f"{BUCKET_DEPLOYMENT}/ServiceRole", f"AwsSolutions-{rule}")
    for rule in (
        "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "IAM5[Action::s3:GetBucket*]",
        "IAM5[Action::s3:GetObject*]",
        "IAM5[Action::s3:List*]",
        "IAM5[Action::s3:Abort*]",
        "IAM5[Action::s3:DeleteObject*]",
        "IAM5[Resource::<WebBucket.Arn>/*]",
        "IAM5[Resource::*]",
    )
} | {(BUCKET_DEPLOYMENT, "AwsSolutions-L1")}
WEB_ACKS = {
    *{("Web/Distribution", f"AwsSolutions-{rule}") for rule in ("CFR1", "CFR2", "CFR4")},
    *WEB_DEPLOYMENT_ACKS,
}
WEB_GLOBAL_ACKS = {
    *WEB_ACKS,
    (
        f"{BUCKET_DEPLOYMENT}/ServiceRole",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
        "<AWS::Region>/*]",
    ),
}
EXPECTED_ACKS = {
    *WEB_GLOBAL_ACKS,
    ("Identity/UserPool", "AwsSolutions-COG2"),
    ("Identity/UserPool", "AwsSolutions-COG8"),
    (
        "Http/Api/CloudWatchRole",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
    ),
    ("Workflow/StateMachine/Role", "AwsSolutions-IAM5[Resource::*]"),
    ("Schedules/DeadLetters", "AwsSolutions-SQS3"),  # it is the schedules' dead-letter queue
    ("Schedules/FailedRuns", "AwsSolutions-SQS3"),  # the scheduled functions' on-failure destination
    ("StatusWebhooks/StreamFailures", "AwsSolutions-SQS3"),  # the stream mappings' on-failure destination
    ("Cockpit/StreamFailures", "AwsSolutions-SQS3"),  # the same, for the cockpit summaries' mappings
    ("CheckinSecret/Secret", "AwsSolutions-SMG4"),
    *CREDIT_EXPORT_ACKS,
    *{(f"Functions/{name}/Role", PHOTO_ACK) for name in PHOTO_SIGNERS},
    *{(f"Functions/{name}/Role", CENTRE_SECRETS_ACK) for name in CENTRE_SECRET_HOLDERS},
    *FUNCTION_ACKS,
    *PUBLIC_METHOD_ACKS,
}


def rule_id(rule: str) -> str:
    """Rule ids name generated logical ids (ReportPhotosBucket2420706A): compare without the hash."""
    return re.sub(r"<(ReportPhotosBucket|WebBucket|CreditExportsBucket)[0-9A-F]{8}\.Arn>", r"<\1.Arn>", rule)


def acknowledgements(synthesized: Synthesized) -> Iterator[tuple[str, str, Any]]:
    """(construct path below the stack, rule id, reason) from the assembly's metadata."""
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text(encoding="utf-8"))
    artifact = manifest["artifacts"][c.STACK_NAME]
    metadata_file = synthesized.outdir / artifact["additionalMetadataFile"]
    prefix = f"/{c.STACK_NAME}/"
    for path, entries in json.loads(metadata_file.read_text(encoding="utf-8")).items():
        for entry in entries:
            if entry["type"] == ACKNOWLEDGED:
                for rule, reason in entry["data"].items():
                    yield path.removeprefix(prefix), rule.removeprefix("Annotation::"), reason


@pytest.mark.infra
def test_validation_report_has_no_findings(synthesized: Synthesized) -> None:
    # Synthesis itself raises on an unacknowledged finding; the report must agree.
    report = json.loads((synthesized.outdir / "validation-report.json").read_text(encoding="utf-8"))
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []


@pytest.mark.infra
def test_acknowledgements_are_the_expected_ones_with_reasons(synthesized: Synthesized) -> None:
    found = list(acknowledgements(synthesized))
    assert {(path, rule_id(rule)) for path, rule, _ in found} == EXPECTED_ACKS
    for path, rule, reason in found:
        assert isinstance(reason, str) and len(reason.split()) >= 8, (path, rule, reason)


@pytest.mark.infra
def test_wildcard_reasons_name_what_the_wildcard_covers(synthesized: Synthesized) -> None:
    """One acknowledgement covers every Resource "*" on a role: its reason must explain each of them."""
    reasons = {
        path: reason
        for path, rule, reason in acknowledgements(synthesized)
        if rule == "AwsSolutions-IAM5[Resource::*]" and path.startswith("Functions/")
    }
    assert set(reasons) == {f"Functions/{name}/Role" for name in FUNCTION_SCOPES}
    for name in FUNCTION_SCOPES:
        reason = reasons[f"Functions/{name}/Role"]
        assert "xray:PutTraceSegments" in reason
        assert ("sns:Publish" in reason and "SMS" in reason) == (name in DIRECT_PUBLISHERS), name


@pytest.mark.infra
def test_the_sos_route_is_public_for_a_stated_reason(synthesized: Synthesized) -> None:
    found = {(path, rule): reason for path, rule, reason in acknowledgements(synthesized)}
    for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
        reason = found[("Http/Api/Default/v1/sos/POST", rule)]
        assert "bystander" in reason and "without an account" in reason


def unacknowledged_findings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, context: dict[str, Any]
) -> set[tuple[str, str]]:
    """(construct path, rule) of every cdk-nag finding when the stack is synthesized with ``context`` and
    acknowledgements switched off."""
    import aws_cdk as cdk

    from infra.app import build_app

    monkeypatch.setattr(cdk.Validations, "acknowledge", lambda self, *rules: None)
    app = build_app(outdir=str(tmp_path), context=context)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text(encoding="utf-8"))
    prefix = f"{c.STACK_NAME}/"
    return {
        (
            where["constructPath"]
            .removeprefix(prefix)
            .removesuffix("/Resource")
            .removesuffix("/DefaultPolicy"),
            rule_id(v["ruleName"]),
        )
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        for where in v["violatingConstructs"]
    }


@pytest.mark.infra
def test_every_acknowledgement_is_needed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With acknowledgements switched off, cdk-nag must report exactly the acknowledged findings: proof
    that the checks run and that no acknowledgement is stale."""
    assert unacknowledged_findings(monkeypatch, tmp_path, TEST_CONTEXT) == EXPECTED_ACKS


@pytest.mark.infra
def test_cfn_lint_clean_with_the_project_settings(synthesized: Synthesized) -> None:
    assert [str(m) for m in lint_template(synthesized.template_path)] == []


@pytest.mark.infra
def test_cfn_lint_no_errors_with_defaults(synthesized: Synthesized) -> None:
    """Independent of infra/lint.py's region list and skipped checks: no error-level finding at all."""
    matches = lint_file(synthesized.template_path, ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches if m.rule.id.startswith("E")] == []


@pytest.mark.infra
def test_push_context_adds_no_finding(synthesized: Synthesized, synthesized_with_push: Synthesized) -> None:
    """With push applications (an ARN-scoped grant): still no cdk-nag finding, the same acknowledgements,
    and cfn-lint clean."""
    report = json.loads((synthesized_with_push.outdir / "validation-report.json").read_text(encoding="utf-8"))
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []
    assert {(p, rule_id(r)) for p, r, _ in acknowledgements(synthesized_with_push)} == EXPECTED_ACKS
    assert [str(m) for m in lint_template(synthesized_with_push.template_path)] == []


@pytest.mark.infra
def test_cfn_lint_can_fail(synthesized: Synthesized, tmp_path: Path) -> None:
    broken = json.loads(json.dumps(synthesized.template))
    table = next(k for k, r in broken["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table")
    broken["Resources"][table]["Properties"]["BillingMode"] = "FREE_OF_CHARGE"
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    assert any(m.rule.id.startswith("E") for m in lint_template(path))


@pytest.mark.infra
def test_acknowledgement_reasons_say_what_the_code_does(synthesized: Synthesized) -> None:
    """Reasons that were not true: the registrations and reminders roles described incident alerts, the
    check-in key claimed a redeploy replaces it, the photo bucket claimed CloudTrail records presigning."""
    found = {(path, rule): reason for path, rule, reason in acknowledgements(synthesized)}
    wildcard = "AwsSolutions-IAM5[Resource::*]"
    registrations = found[("Functions/Teaching_Registrations/Role", wildcard)]
    reminders = found[("Functions/Certification_Reminders/Role", wildcard)]
    for reason in (registrations, reminders):
        assert "incident" not in reason and "alert" not in reason and "responder" not in reason
    assert "waitlisted trainee" in registrations and "promoted registration" in registrations
    assert "expiry reminders" in reminders and "holder's phone number" in reminders
    for name in ("Rescue_Sos", "Rescue_Incidents", "Rescue_Steps"):
        assert "incident's alerts" in found[(f"Functions/{name}/Role", wildcard)]
    secret = found[("CheckinSecret/Secret", "AwsSolutions-SMG4")]
    assert "A redeploy keeps the value" in secret and "docs/deploy.md" in secret
    assert not any(path.startswith("ReportPhotos/Bucket") and "S1" in rule for path, rule in found)
    bucket = synthesized.resources[synthesized.logical_id("ReportPhotos/Bucket/Resource")]["Properties"]
    logs = synthesized.logical_id("ReportPhotos/AccessLogs/Resource")
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs}
    lifecycle = synthesized.resources[logs]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [r["ExpirationInDays"] for r in lifecycle] == [c.PHOTO_ACCESS_LOG_RETENTION_DAYS]


# CloudFormation refuses a template of more than 500 resources (its documented quota): the deploy fails
# whole. The stack is near it (a capability adds a function, a table and its routes: ~20), so the next one
# must move the API, or a capability, into a nested stack first.
CLOUDFORMATION_MAX_RESOURCES = 500


@pytest.mark.infra
@pytest.mark.parametrize("profile", ["synthesized", "synthesized_with_push", "synthesized_cn"])
def test_each_profile_deploys_within_cloudformations_resource_quota(profile: str, request: Any) -> None:
    template = json.loads(request.getfixturevalue(profile).template_path.read_text(encoding="utf-8"))
    assert len(template["Resources"]) <= CLOUDFORMATION_MAX_RESOURCES
