"""The 120 link in the synthesized template: the centres' signing secrets (made at run time, one per
centre) are reachable only under the stack's own prefix, by the dispatch functions: issued by the
registration, read by the inbound calls' and the status webhooks' functions; the signed routes take no
token; loopback callbacks are never allowed in a stack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants as c
from shared.config import Settings
from shared.routes import ROUTES
from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.test_infra_api import methods
from tests.infrastructure.test_infra_functions import ALL_FUNCTIONS, environment, role_of, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

PREFIX = f"{c.STACK_NAME}/dispatch-centres/"
ISSUE = {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue"}
EXPECTED = {
    "dispatch_centres": ISSUE,
    "dispatch_inbound": {"secretsmanager:GetSecretValue"},
    "dispatch_webhooks": {"secretsmanager:GetSecretValue"},  # signs the status webhooks
}


def centre_secret_grants(synthesized: Synthesized, name: str) -> tuple[set[str], list[Any]]:
    actions: set[str] = set()
    resources: list[Any] = []
    for statement in role_statements(synthesized, role_of(synthesized, name)):
        listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if "dispatch-centres/" in json.dumps(statement["Resource"]):
            actions |= set(listed)
            resources.append(statement["Resource"])
    return actions, resources


@pytest.mark.infra
@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_only_the_dispatch_functions_reach_the_centres_secrets_and_only_under_the_prefix(
    synthesized: Synthesized, name: str
) -> None:
    actions, resources = centre_secret_grants(synthesized, name)
    env = environment(synthesized, name)
    assert actions == EXPECTED.get(name, set())
    if name not in EXPECTED:
        assert "DISPATCH_SECRET_PREFIX" not in env
        return
    assert env["DISPATCH_SECRET_PREFIX"] == PREFIX
    # The code's default is the stack's prefix too: the local runtime names them as a deployment does.
    assert Settings.from_environ({}).dispatch_secret_prefix == PREFIX
    assert "DISPATCH_LOOPBACK_CALLBACKS" not in env  # https callbacks only in a stack
    (arn,) = {json.dumps(r, sort_keys=True) for r in resources}
    assert json.loads(arn) == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":secretsmanager:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":secret:{PREFIX}*",
            ],
        ]
    }


@pytest.mark.infra
def test_no_function_may_delete_or_open_up_a_secret(synthesized: Synthesized) -> None:
    for name in ALL_FUNCTIONS:
        for statement in role_statements(synthesized, role_of(synthesized, name)):
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not {a for a in listed if a.startswith("secretsmanager:")} & {
                "secretsmanager:DeleteSecret",
                "secretsmanager:PutResourcePolicy",
                "secretsmanager:UpdateSecret",
                "secretsmanager:RotateSecret",
            }, name


@pytest.mark.infra
def test_the_signed_routes_take_no_token_and_reach_the_inbound_function(synthesized: Synthesized) -> None:
    signed = [r for r in ROUTES if r.signed]
    assert {r.path for r in signed} == {
        "/v1/dispatch/centres/{centre_id}/incidents",
        "/v1/dispatch/centres/{centre_id}/incidents/{cad_incident_no}/updates",
    }
    found = methods(synthesized)
    for route in signed:
        assert route.function == "dispatch_inbound" and route.roles is None
        assert found[(route.method, route.path)]["AuthorizationType"] == "NONE"
    admin = found[("PUT", "/v1/dispatch/centres/{centre_id}")]
    assert admin["AuthorizationType"] == "COGNITO_USER_POOLS"
