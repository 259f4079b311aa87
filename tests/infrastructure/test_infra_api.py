"""The REST API is the route table: one method per route, Cognito exactly where a route is not anonymous."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import constants as c
from shared.identity import ROLES
from shared.routes import ROUTES, Route
from tests.infrastructure.conftest import Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

PATH_PARAM = re.compile(r"\{(\w+)\}")


def resource_paths(synthesized: Synthesized) -> dict[str, str]:
    """Logical id of each AWS::ApiGateway::Resource -> its full path, walking ParentId up to the root."""
    resources = synthesized.of_type("AWS::ApiGateway::Resource")

    def path(logical_id: str) -> str:
        props = resources[logical_id]["Properties"]
        parent = props["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else path(parent["Ref"])
        return f"{prefix}/{props['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in resources}


def methods(synthesized: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    paths = resource_paths(synthesized)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for method in synthesized.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = "/" if "Fn::GetAtt" in resource else paths[resource["Ref"]]
        key = (props["HttpMethod"], path)
        assert key not in found, f"duplicate method {key}"
        found[key] = props
    return found


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


@pytest.mark.infra
def test_methods_are_the_route_table(synthesized: Synthesized) -> None:
    # Besides the routes: one CORS preflight (OPTIONS) per resource, for the web pages (test_infra_web.py).
    routed = {m for m in methods(synthesized) if m[0] != "OPTIONS"}
    assert routed == {(r.method, r.path) for r in ROUTES}
    preflights = len({r.path for r in ROUTES})
    synthesized.assertions.resource_count_is("AWS::ApiGateway::Method", len(ROUTES) + preflights)


@pytest.mark.infra
def test_anonymous_routes_written_out() -> None:
    """A route turning anonymous must be a decision: it fails here until it is added (with a reason)."""
    anonymous = {route_id(r) for r in ROUTES if r.anonymous}
    assert anonymous == {
        "GET /v1/health",
        "GET /v1/aeds",
        "GET /v1/estations",
        "GET /v1/aeds/nearby",
        "POST /v1/sos",
        "GET /v1/certificates/{certificate_no}",
        # No token, but signed by a 120 centre: the function verifies before it reads (docs/dispatch.md).
        "POST /v1/dispatch/centres/{centre_id}/incidents",
        "POST /v1/dispatch/centres/{centre_id}/incidents/{cad_incident_no}/updates",
    }
    assert set(c.PUBLIC_ROUTE_REASONS) == anonymous
    assert {route_id(r) for r in ROUTES if r.signed} == {i for i in anonymous if "/dispatch/" in i}


@pytest.mark.infra
@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_authorizer_exactly_on_non_anonymous_routes(synthesized: Synthesized, route: Route) -> None:
    props = methods(synthesized)[(route.method, route.path)]
    if route.anonymous:
        assert props["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in props
    else:
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
        authorizer = synthesized.resources[props["AuthorizerId"]["Ref"]]["Properties"]
        assert authorizer["Type"] == "COGNITO_USER_POOLS"
        pool = synthesized.logical_id("Identity/UserPool/Resource")
        assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [pool, "Arn"]}]


@pytest.mark.infra
@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route_proxies_to_its_function(synthesized: Synthesized, route: Route) -> None:
    props = methods(synthesized)[(route.method, route.path)]
    integration = props["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert integration["IntegrationHttpMethod"] == "POST"
    function = synthesized.logical_id(f"Functions/{route.function.title()}/Function/Resource")
    assert {"Fn::GetAtt": [function, "Arn"]} in integration["Uri"]["Fn::Join"][1]
    # Request validation: the validator on every method, path parameters required.
    validator = synthesized.resources[props["RequestValidatorId"]["Ref"]]["Properties"]
    assert validator["ValidateRequestParameters"] is True
    params = PATH_PARAM.findall(route.path)
    assert props.get("RequestParameters", {}) == {f"method.request.path.{p}": True for p in params}


@pytest.mark.infra
def test_stage_logs_traces_and_throttles(synthesized: Synthesized) -> None:
    stages = synthesized.of_type("AWS::ApiGateway::Stage")
    assert len(stages) == 1
    props = next(iter(stages.values()))["Properties"]
    assert props["StageName"] == c.API_STAGE
    assert props["TracingEnabled"] is True
    assert props["AccessLogSetting"]["DestinationArn"]
    assert props["AccessLogSetting"]["Format"].startswith("{")
    (settings,) = props["MethodSettings"]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["LoggingLevel"] in {"ERROR", "INFO"}
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] == c.API_THROTTLE_RATE
    assert settings["ThrottlingBurstLimit"] == c.API_THROTTLE_BURST


@pytest.mark.infra
def test_firewall_guards_the_stage(synthesized: Synthesized) -> None:
    (association,) = synthesized.of_type("AWS::WAFv2::WebACLAssociation").values()
    (stage_id,) = synthesized.of_type("AWS::ApiGateway::Stage")
    assert stage_id in str(association["Properties"]["ResourceArn"])


@pytest.mark.infra
def test_firewall_stops_an_sos_flood_from_one_address_first(synthesized: Synthesized) -> None:
    """A rate-based rule on POST /v1/sos per client address, before the managed groups, answering 429
    with Retry-After and the contract's error shape; coarser than the platform's own per-address cap."""
    from shared.config import default_value

    (acl,) = synthesized.of_type("AWS::WAFv2::WebACL").values()
    rules = sorted(acl["Properties"]["Rules"], key=lambda r: r["Priority"])
    flood = rules[0]
    assert flood["Name"] == "SosFloodPerAddress"
    rate = flood["Statement"]["RateBasedStatement"]
    assert (rate["AggregateKeyType"], rate["EvaluationWindowSec"]) == ("IP", 300)
    # Never below what the platform itself accepts from one address in 5 minutes.
    assert rate["Limit"] >= default_value("sos_per_ip") * max(1, 300 // default_value("sos_window_s"))
    matches = [s["ByteMatchStatement"] for s in rate["ScopeDownStatement"]["AndStatement"]["Statements"]]
    assert {
        (next(iter(m["FieldToMatch"])), m["SearchString"], m["PositionalConstraint"]) for m in matches
    } == {
        ("Method", "POST", "EXACTLY"),
        ("UriPath", "/v1/sos", "ENDS_WITH"),
    }
    response = flood["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    assert {"Name": "Retry-After", "Value": "300"} in response["ResponseHeaders"]
    body = acl["Properties"]["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert json.loads(body["Content"])["error"]["code"] == "rate_limited"
    assert len({r["Priority"] for r in rules}) == len(rules)


@pytest.mark.infra
def test_lambda_permissions_are_per_function_and_for_the_deployed_stage_only(
    synthesized: Synthesized,
) -> None:
    """API Gateway may invoke each function that serves routes, through this API's deployed stage only (no
    test-invoke, no other API): one permission per function, as a stack holds at most 500 resources."""
    api = synthesized.logical_id("Http/Api/Resource")
    granted = []
    for permission in synthesized.of_type("AWS::Lambda::Permission").values():
        props = permission["Properties"]
        assert props["Action"] == "lambda:InvokeFunction"
        assert props["Principal"] == "apigateway.amazonaws.com"
        parts = props["SourceArn"]["Fn::Join"][1]
        assert {"Ref": api} in parts  # this API's id
        assert parts[-1] == f"/{c.API_STAGE}/*/*"
        granted.append(props["FunctionName"]["Fn::GetAtt"][0])
    expected = {
        synthesized.logical_id(f"Functions/{name.title()}/Function/Resource")
        for name in {r.function for r in ROUTES}
    }
    assert sorted(granted) == sorted(expected)  # each once


@pytest.mark.infra
def test_user_pool_groups_are_the_roles(synthesized: Synthesized) -> None:
    groups = {
        g["Properties"]["GroupName"] for g in synthesized.of_type("AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == set(ROLES) == {"responder", "dispatcher", "aed_manager", "trainer", "examiner", "admin"}
    used = set().union(*(r.roles for r in ROUTES if r.roles))
    assert used <= groups
    synthesized.assertions.has_resource_properties(
        "AWS::Cognito::UserPool",
        {"Policies": {"PasswordPolicy": {"MinimumLength": c.PASSWORD_MIN_LENGTH, "RequireSymbols": True}}},
    )


@pytest.mark.infra
def test_static_aed_paths_are_their_own_resources_beside_the_aed_id_template(
    synthesized: Synthesized,
) -> None:
    """API Gateway matches a literal path segment before a {parameter} at the same level: /v1/aeds/nearby
    and /v1/aeds/coverage reach their own methods, never GET /v1/aeds/{aed_id} with aed_id "nearby"."""
    found = methods(synthesized)
    paths = set(resource_paths(synthesized).values())
    assert {"/v1/aeds/nearby", "/v1/aeds/coverage", "/v1/aeds/{aed_id}"} <= paths
    assert found[("GET", "/v1/aeds/nearby")]["AuthorizationType"] == "NONE"
    assert found[("GET", "/v1/aeds/coverage")]["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert found[("GET", "/v1/aeds/{aed_id}")]["AuthorizationType"] == "COGNITO_USER_POOLS"
