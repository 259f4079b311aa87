"""The credits exports in the synthesized template, both profiles: a private, versioned, logged bucket
for the files that survives the stack, a generated signing secret, and only the credits_export function
writing under the exports' prefix and reading that secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants as c
from shared.logic.credits_export import FILE_PREFIX
from shared.routes import FUNCTIONS
from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.test_infra_compliance import acknowledgements
from tests.infrastructure.test_infra_teaching import _function, _statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


@pytest.fixture(params=["global", "cn"])
def each_profile(request: pytest.FixtureRequest) -> Synthesized:
    return request.getfixturevalue("synthesized" if request.param == "global" else "synthesized_cn")


def test_the_bucket_is_private_versioned_logged_and_kept(each_profile: Synthesized):
    bucket_id = each_profile.logical_id("CreditExports/Bucket/Resource")
    bucket = each_profile.resources[bucket_id]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "credit-exports/"


def test_only_the_export_function_writes_the_files_and_reads_the_signing_secret(each_profile: Synthesized):
    bucket_id = each_profile.logical_id("CreditExports/Bucket/Resource")
    secret_id = each_profile.logical_id("CreditExports/SigningSecret/Resource")
    secret = each_profile.resources[secret_id]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32 and "SecretString" not in secret
    assert c.CREDIT_EXPORT_PREFIX == FILE_PREFIX
    for name in FUNCTIONS:
        env = _function(each_profile, name)["Properties"].get("Environment", {}).get("Variables", {})
        statements = _statements(each_profile, name)
        on_bucket = [s for s in statements if bucket_id in json.dumps(s["Resource"])]
        on_secret = [s for s in statements if s["Resource"] == {"Ref": secret_id}]
        if name == "credits_export":
            assert env["CREDIT_EXPORT_SECRET_ID"] == {"Ref": secret_id}
            assert env["CREDIT_EXPORTS_BUCKET"] == {"Ref": bucket_id}
            (writes,) = on_bucket
            assert _actions(writes) == {"s3:PutObject", "s3:GetObject"}
            assert f'"/{c.CREDIT_EXPORT_PREFIX}*"' in json.dumps(writes["Resource"])
            (reads,) = on_secret
            assert _actions(reads) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
        else:
            assert on_bucket == [] and on_secret == [], name
            assert "CREDIT_EXPORT_SECRET_ID" not in env and "CREDIT_EXPORTS_BUCKET" not in env, name
    assert [n for n, g in c.FUNCTION_GRANTS.items() if g.credit_exports] == ["credits_export"]


def test_the_unrotated_key_and_the_prefix_grant_are_acknowledged_with_their_reasons(synthesized: Synthesized):
    found = {(path, rule): reason for path, rule, reason in acknowledgements(synthesized)}
    assert "new public key" in found[("CreditExports/SigningSecret", "AwsSolutions-SMG4")]
    assert any(
        path.startswith("Functions/Credits_Export")
        and rule.startswith("AwsSolutions-IAM5[")
        and "export" in reason
        for (path, rule), reason in found.items()
    )
