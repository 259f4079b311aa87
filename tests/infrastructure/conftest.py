"""Synthesizes the CDK app once per session (bundling skipped: no pip, no network) and hands the tests
the template, the cloud assembly folder and the stack's construct tree."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii prints a banner for Node 20 on every start; set before aws_cdk starts its runtime.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

# No bundling (the layer's pip install is skipped, so no network); path metadata as the CLI adds it, so a
# resource can be found by its construct path.
TEST_CONTEXT = {"aws:cdk:bundling-stacks": [], "aws:cdk:enable-path-metadata": True}


@dataclass
class Synthesized:
    app: Any  # aws_cdk.App
    stack: Any  # infra.stack.RescueNearbyStack
    outdir: Path
    template_path: Path
    template: dict[str, Any]
    _assertions: Any = None

    @property
    def assertions(self) -> Any:
        """The template for aws_cdk.assertions (built on first use)."""
        from aws_cdk.assertions import Template

        if self._assertions is None:
            self._assertions = Template.from_json(self.template)
        return self._assertions

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == cfn_type}

    def logical_id(self, construct_path: str) -> str:
        """The logical id of the resource at a construct path below the stack (from aws:cdk:path)."""
        full = f"{self.stack.stack_name}/{construct_path}"
        found = [k for k, r in self.resources.items() if r.get("Metadata", {}).get("aws:cdk:path") == full]
        assert len(found) == 1, f"{full}: {found}"
        return found[0]


def synthesize(outdir: Path, context: dict[str, Any]) -> Synthesized:
    from infra import constants as c
    from infra.app import build_app

    app = build_app(outdir=str(outdir), context=context)
    assembly = app.synth()  # raises on any unacknowledged cdk-nag finding
    artifact = assembly.get_stack_by_name(c.STACK_NAME)
    template_path = outdir / artifact.template_file
    return Synthesized(
        app=app,
        stack=app.node.find_child(c.STACK_NAME),
        outdir=outdir,
        template_path=template_path,
        template=json.loads(template_path.read_text(encoding="utf-8")),
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The app as `cdk synth` builds it without extra context (no push applications)."""
    yield synthesize(tmp_path_factory.mktemp("cdk.out"), TEST_CONTEXT)


# An FCM platform application passed as ops pass it: `cdk -c push_applications='{"fcm": "arn:..."}'` hands
# the app a JSON string.
PUSH_FCM_ARN = "arn:aws:sns:ap-southeast-1:123456789012:app/GCM/rescue-nearby-fcm"
# The other optional context values (docs/deploy.md), as strings the way `cdk -c` passes them.
DISPATCH_CENTRE_ENDPOINT = "https://cad.dispatch-120.cn/sns/rescue-nearby"
OPS_ALARM_ENDPOINT = "ops@rescue-nearby.cn"
OAUTH_CALLBACKS = ("https://app.rescue-nearby.cn/auth/callback", "rescuenearby://auth")
SES_IDENTITY = "rescue-nearby.cn"
PUSH_CONTEXT = {
    **TEST_CONTEXT,
    "push_applications": json.dumps({"fcm": PUSH_FCM_ARN}),
    "dispatch_centre_endpoint": DISPATCH_CENTRE_ENDPOINT,
    "ops_alarm_endpoint": OPS_ALARM_ENDPOINT,
    "oauth_callback_urls": json.dumps(list(OAUTH_CALLBACKS)),
    "cognito_ses_identity": SES_IDENTITY,
}


@pytest.fixture(scope="session")
def synthesized_with_push(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The one extra synthesis: with every optional context value (an FCM push application, the dispatch
    centre's and the ops alarms' subscriptions, OAuth callbacks, Cognito mail through SES)."""
    yield synthesize(tmp_path_factory.mktemp("cdk.out.push"), PUSH_CONTEXT)


# The cn profile (infra/profile.py) as ops would deploy it to the default China region, with two approved
# template codes given the way `cdk -c sms_templates='{...}'` passes them (a JSON string).
CN_SMS_TEMPLATES = {"rescue_alert": "SMS_486100001", "rescue_stand_down": "SMS_486100002"}
CN_CONTEXT = {**TEST_CONTEXT, "profile": "cn", "sms_templates": json.dumps(CN_SMS_TEMPLATES)}


@pytest.fixture(scope="session")
def synthesized_cn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The cn profile's stack (AWS China regions), synthesized once per session."""
    yield synthesize(tmp_path_factory.mktemp("cdk.out.cn"), CN_CONTEXT)
