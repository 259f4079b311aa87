"""The REST API, built from shared.routes.ROUTES: one method per route, proxied to route.function.

Authorization comes from the Identity interface (Cognito user pools on every non-anonymous route in the
global profile, the OIDC TOKEN authorizer in the cn one); anonymous routes carry a per-route reason from
infra/constants.PUBLIC_ROUTE_REASONS.

With ``json_auth_errors`` (the cn profile) API Gateway's own refusals before a function runs (no or a bad
token: 401; an authorizer that fails: 500) answer in the API's error shape, ``{"error": {"code",
"message"}}``, as the handlers and the local gateway do, instead of API Gateway's ``{"message": ...}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra import constants as c
from infra.constructs.identity import Identity
from shared.api.plain import CORS_REQUEST_HEADERS
from shared.routes import ROUTES, Route

_PATH_PARAM = re.compile(r"\{(\w+)\}")

# AWS managed rule groups that block without false positives on a JSON API: known-bad IPs and exploit
# payloads (Log4Shell and the like). Not the common rule set, whose body-size rule blocks uploads.
_MANAGED_RULE_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet")


def route_key(route: Route) -> str:
    return f"{route.method} {route.path}"


# API Gateway's own refusals around the authorizer, in the API's error shape (shared/errors.py codes; the
# 401 message is the local gateway's). (construct id, type, status, code, message, header values).
AUTH_ERROR_RESPONSES: tuple[tuple[str, apigw.ResponseType, int, str, str, dict[str, str]], ...] = (
    (
        "Unauthorized",
        apigw.ResponseType.UNAUTHORIZED,
        401,
        "unauthorized",
        "a valid bearer token is required",
        {"WWW-Authenticate": "'Bearer'"},
    ),
    (
        "AccessDenied",
        apigw.ResponseType.ACCESS_DENIED,
        403,
        "forbidden",
        "this token may not call this API",
        {},
    ),
    (
        "AuthorizerFailure",
        apigw.ResponseType.AUTHORIZER_FAILURE,
        500,
        "internal_error",
        "internal error",
        {},
    ),
    (
        "AuthorizerConfigurationError",
        apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
        500,
        "internal_error",
        "internal error",
        {},
    ),
)


class RestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        identity: Identity,
        tracing: bool = True,
        json_auth_errors: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays[c.LOG_RETENTION],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=c.API_NAME,
            description="Rescue Nearby REST API (routes: shared/routes.py)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-level role API Gateway needs to write execution logs.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=c.API_STAGE,
                tracing_enabled=tracing,  # X-Ray: not in the China regions
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # full request bodies (locations, phone numbers) stay out of logs
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                throttling_rate_limit=c.API_THROTTLE_RATE,
                throttling_burst_limit=c.API_THROTTLE_BURST,
            ),
        )
        cloud_watch_role = self.api.node.find_child("CloudWatchRole")
        cdk.Validations.of(cloud_watch_role).acknowledge(
            cdk.Acknowledgment(
                id=(
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs]"
                ),
                reason=(
                    "The account-level API Gateway logging role: AmazonAPIGatewayPushToCloudWatchLogs is the "
                    "policy AWS documents for it, and API Gateway (not our code) assumes the role."
                ),
            )
        )
        # Parameters (required path parameters) are checked at the edge; bodies are validated by the
        # function's pydantic models, which know the schema (a body validator without models is inert).
        self.validator = self.api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True
        )
        # The function's proxy integration without CDK's permission per method (LambdaIntegration adds one
        # Lambda::Permission for each method: 74 of a stack's 500 resources, the stack's limit). Instead one
        # permission per function that serves routes, for this API's deployed stage only (no test-invoke):
        # API Gateway calls a function only through the methods integrated with it, which are its routes.
        integrations = {
            name: apigw.AwsIntegration(
                proxy=True, service="lambda", path=f"2015-03-31/functions/{fn.function_arn}/invocations"
            )
            for name, fn in functions.items()
        }
        invoke_through_stage = self.api.arn_for_execute_api("*", "/*", c.API_STAGE)
        for name in sorted({route.function for route in ROUTES}):
            functions[name].add_permission(
                "InvokedByApi",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=invoke_through_stage,
            )
        self.methods: dict[str, apigw.Method] = {}
        for route in ROUTES:
            self.methods[route_key(route)] = self._method(route, integrations[route.function], identity)
        self.gateway_responses: list[apigw.GatewayResponse] = []
        if json_auth_errors:
            self._auth_error_responses()
        self._firewall()

    def allow_web_origin(self, origin: str) -> None:
        """CORS for the web pages at ``origin`` (https://<their domain>, and only that): a preflight
        (OPTIONS, answered by API Gateway itself) on every resource with routes, allowing the headers
        the pages send; and API Gateway's own refusals (throttling, WAF-less 4XX, 5XX, the authorizers')
        carrying Access-Control-Allow-Origin, so the pages can read them. The functions' answers carry it
        from their WEB_ORIGIN setting (shared/api/http.py, shared/api/plain.py)."""
        methods: dict[str, list[str]] = {}
        for route in ROUTES:
            methods.setdefault(route.path, []).append(route.method)
        for path, allowed in methods.items():
            # No acknowledgement: cdk-nag's APIG4 and COG4 leave CORS preflights (OPTIONS, answered by API
            # Gateway's mock integration, no function, no data) out by themselves.
            self.api.root.resource_for_path(path).add_cors_preflight(
                allow_origins=[origin],
                allow_headers=list(CORS_REQUEST_HEADERS),
                allow_methods=sorted({*allowed, "OPTIONS"}),
                max_age=cdk.Duration.hours(1),
            )
        allow = {"Access-Control-Allow-Origin": f"'{origin}'", "Vary": "'Origin'"}
        for construct_id, response_type in (
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
        ):
            self.api.add_gateway_response(construct_id, type=response_type, response_headers=allow)
        for response in self.gateway_responses:  # the cn profile's JSON refusals override DEFAULT_4XX
            cfn = response.node.default_child
            assert isinstance(cfn, apigw.CfnGatewayResponse)
            existing = cfn.response_parameters
            assert isinstance(existing, dict)
            cfn.response_parameters = {
                **existing,
                **{f"gatewayresponse.header.{name}": value for name, value in allow.items()},
            }

    def _auth_error_responses(self) -> None:
        for construct_id, response_type, status, code, message, headers in AUTH_ERROR_RESPONSES:
            response = self.api.add_gateway_response(
                construct_id,
                type=response_type,
                status_code=str(status),
                response_headers={"Content-Type": "'application/json'", **headers},
                templates={
                    "application/json": json.dumps({"error": {"code": code, "message": message}}),
                },
            )
            self.gateway_responses.append(response)

    def _method(self, route: Route, integration: apigw.Integration, identity: Identity) -> apigw.Method:
        auth = identity.method_auth(route)
        resource = self.api.root.resource_for_path(route.path)
        method = resource.add_method(
            route.method,
            integration,
            authorization_type=auth.authorization_type,
            authorizer=auth.authorizer,
            request_validator=self.validator,
            request_parameters={f"method.request.path.{p}": True for p in _PATH_PARAM.findall(route.path)},
        )
        if auth.acknowledgements:
            cdk.Validations.of(method).acknowledge(*auth.acknowledgements)
        if route.anonymous:
            reason = c.PUBLIC_ROUTE_REASONS.get(route_key(route))
            if not reason:
                raise ValueError(
                    f"anonymous route {route_key(route)!r} needs a reason in "
                    "infra/constants.PUBLIC_ROUTE_REASONS"
                )
            cdk.Validations.of(method).acknowledge(
                cdk.Acknowledgment(id="AwsSolutions-APIG4", reason=f"Public by design: {reason}"),
                cdk.Acknowledgment(id="AwsSolutions-COG4", reason=f"Public by design: {reason}"),
            )
        return method

    def _firewall(self) -> None:
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True, metric_name=group, sampled_requests_enabled=True
                ),
            )
            for priority, group in enumerate(_MANAGED_RULE_GROUPS, start=1)
        ]
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[_sos_flood_rule(), *rules],
            custom_response_bodies={
                "sos_flood": wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content='{"error": {"code": "rate_limited", "message": "too many SOS from here: if '
                    'someone needs help, call 120"}}',
                )
            },
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=c.API_NAME, sampled_requests_enabled=True
            ),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )


def _sos_flood_rule() -> wafv2.CfnWebACL.RuleProperty:
    """A flood of anonymous SOS from one address stops at the edge, before a Lambda runs: the platform's
    own limits (shared/logic/rescue/limits.py) are the fine ones, this one is coarse (per 5 minutes,
    above them) so it never refuses what they would accept, and it costs nothing per refused request."""

    def match(
        field: wafv2.CfnWebACL.FieldToMatchProperty, text: str, how: str
    ) -> wafv2.CfnWebACL.StatementProperty:
        return wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=field,
                positional_constraint=how,
                search_string=text,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
            )
        )

    sos_posts = wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(
            statements=[
                match(wafv2.CfnWebACL.FieldToMatchProperty(method={}), "POST", "EXACTLY"),
                # The stage comes first in the path WAF sees (/prod/v1/sos).
                match(wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}), "/v1/sos", "ENDS_WITH"),
            ]
        )
    )
    return wafv2.CfnWebACL.RuleProperty(
        name="SosFloodPerAddress",
        priority=0,
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=c.SOS_WAF_LIMIT_PER_5_MINUTES,
                aggregate_key_type="IP",
                evaluation_window_sec=300,
                scope_down_statement=sos_posts,
            )
        ),
        action=wafv2.CfnWebACL.RuleActionProperty(
            block=wafv2.CfnWebACL.BlockActionProperty(
                custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                    response_code=429,
                    custom_response_body_key="sos_flood",
                    response_headers=[
                        wafv2.CfnWebACL.CustomHTTPHeaderProperty(name="Retry-After", value="300")
                    ],
                )
            )
        ),
        visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name="SosFloodPerAddress", sampled_requests_enabled=True
        ),
    )
