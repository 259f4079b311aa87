"""The web pages (web/, assembled by infra/web_assets.py) on S3 behind CloudFront, with the deployment's
/config.json written next to them at deploy time (the API's URL, the sign-in settings, the base map).

- The bucket is private (public access blocked, TLS only, server access logs); CloudFront reads it with
  Origin Access Control (global) or an Origin Access Identity (cn: CloudFront in the China regions has no
  OAC, no CloudFront Functions, and no usable default domain: an ICP-filed alternate domain with an IAM
  server certificate is required, given as the WebDomain and WebCertificateId parameters; docs/deploy.md,
  "Web pages").
- Every answer carries a strict Content-Security-Policy (scripts and styles from the pages' own origin only;
  fetches to it, the API's origin and the sign-in token endpoint; images from it, data:, blob: and the base
  map's tile hosts), HSTS, nosniff, frame-ancestors 'none' (and X-Frame-Options DENY).
- Global: a CloudFront Function serves the pages at their folder URLs (/map/ and /map are /map/index.html).
- The distribution depends on neither the API's stage nor the functions (only the REST API's id, for the
  CSP), so the API's CORS preflight and the functions' WEB_ORIGIN can name the distribution's domain; the
  BucketDeployment, which writes config.json, depends on both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.profile import context_object

# CDK context: `-c web=off` deploys the stack without the pages (a cn deployment before its ICP filing);
# `-c web_tiles='{"url": ..., "attribution": ..., "crs": ..., "subdomains": ..., "max_zoom": ...}'` is the
# base map (the shape of the WEB_TILES setting); without it the pages draw no base map.
WEB_CONTEXT = "web"
WEB_TILES_CONTEXT = "web_tiles"
CONFIG_OBJECT = "config.json"
HANGZHOU = (30.2741, 120.1551)
MAP_ZOOM = 12
LOG_RETENTION_DAYS = 365
HSTS_SECONDS = 2 * 365 * 24 * 3600

# Folder URLs to their index.html: "/" and "/map/" end in a slash; "/map" has no dot in its last segment.
# CloudFront Functions (JS 2.0 runtime); tests/infrastructure/test_infra_web.py runs it with node.
FOLDER_INDEX_JS = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    request.uri = uri + '/index.html';
  }
  return request;
}
"""


def web_enabled(value: object) -> bool:
    """The ``web`` context value: on (default) or off."""
    text = "on" if value is None else str(value).strip().lower()
    if text not in ("on", "off", "true", "false"):
        raise ValueError(f"CDK context {WEB_CONTEXT!r} must be on or off, got {value!r}")
    return text in ("on", "true")


def web_tiles(value: object) -> dict[str, Any]:
    """The ``web_tiles`` context value: the pages' base map ({} = none)."""
    where = f"CDK context {WEB_TILES_CONTEXT!r}"
    tiles = dict(context_object(value, where, "describing the tile layer", '{"url": "https://..."}'))
    if not tiles:
        return {}
    url = tiles.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
        raise ValueError(f"{where}: url must be an https:// tile URL with {{z}}/{{x}}/{{y}}, got {url!r}")
    if tiles.setdefault("crs", "wgs84") not in ("wgs84", "gcj02"):
        raise ValueError(f"{where}: crs must be wgs84 or gcj02, got {tiles['crs']!r}")
    if "max_zoom" in tiles:
        tiles["max_zoom"] = int(tiles["max_zoom"])
    return tiles


def tile_sources(tiles: Mapping[str, Any]) -> list[str]:
    """The CSP img-src entries for the tile URL: its host, with {s} expanded to each subdomain."""
    url = tiles.get("url")
    if not url:
        return []
    host = urlsplit(str(url)).netloc
    if "{s}" not in host:
        return [f"https://{host}"]
    return [f"https://{host.replace('{s}', s)}" for s in str(tiles.get("subdomains") or "abc")]


def content_security_policy(*, connect: Sequence[str], images: Sequence[str]) -> str:
    """The pages' CSP: everything from their own origin; ``connect`` and ``images`` add origins."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            # Leaflet and ECharts style elements through the CSSOM (element.style), which style-src does not
            # govern; no page sets a style attribute in markup, so no 'unsafe-inline'.
            "style-src 'self'",
            " ".join(("img-src 'self' data: blob:", *images)),
            " ".join(("connect-src 'self'", *connect)),
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def api_origin(api: apigw.RestApi) -> str:
    """https://<id>.execute-api.<region>.<suffix>: from the REST API's id alone, not its stage (whose
    deployment depends on the CORS preflight methods that name the distribution: a cycle)."""
    return cdk.Fn.join(
        "", ["https://", api.rest_api_id, ".execute-api.", cdk.Aws.REGION, ".", cdk.Aws.URL_SUFFIX]
    )


def api_url(api: apigw.RestApi) -> str:
    """The stage's URL without the trailing slash (config.json's api_url)."""
    return cdk.Fn.join("", [api_origin(api), "/", api.deployment_stage.stage_name])


def asset_objects(stack: cdk.Stack) -> str:
    """The bootstrap asset bucket's objects as cdk-nag names them: literal partition and region when the
    stack has a region (cn), placeholders when it is environment-agnostic."""
    partition, region = stack.partition, stack.region
    if cdk.Token.is_unresolved(region):
        partition, region = "<AWS::Partition>", "<AWS::Region>"
    return f"arn:{partition}:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-{region}/*"


class WebPages(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        folder: Path,
        api: apigw.RestApi,
        china: bool,
        tiles: Mapping[str, Any],
        sign_in_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.folder = folder
        self.api = api
        self.tiles = dict(tiles)
        # One log bucket for the pages bucket's server access logs and CloudFront's standard logs (which
        # CloudFront writes with an ACL: object writer ownership). cdk-nag asks no logs of a log bucket.
        self.logs = s3.Bucket(
            self,
            "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=cdk.Duration.days(LOG_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="pages-bucket/",
            # Rebuilt from the repository by every deploy: nothing in it to keep.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="Rescue Nearby web pages: CSP, HSTS, nosniff, no framing",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(
                        connect=[api_origin(api), *sign_in_origins], images=tile_sources(self.tiles)
                    ),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.seconds(HSTS_SECONDS),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
        )
        self.domain_parameter: cdk.CfnParameter | None = None
        self.certificate_parameter: cdk.CfnParameter | None = None
        if china:
            self._china_parameters()
        origin = (
            origins.S3BucketOrigin.with_origin_access_identity(self.bucket)
            if china
            else origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        )
        self.folder_index: cloudfront.Function | None = None
        function_associations = None
        if not china:  # no CloudFront Functions in the China regions
            self.folder_index = cloudfront.Function(
                self,
                "FolderIndex",
                code=cloudfront.FunctionCode.from_inline(FOLDER_INDEX_JS),
                runtime=cloudfront.FunctionRuntime.JS_2_0,
                comment="Folder URLs (/map/, /map) to their index.html",
            )
            function_associations = [
                cloudfront.FunctionAssociation(
                    function=self.folder_index, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Rescue Nearby web pages",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                function_associations=function_associations,
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2,
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
        )
        if china:
            self._china_distribution()
        self.domain_name = (
            self.domain_parameter.value_as_string
            if self.domain_parameter is not None
            else self.distribution.distribution_domain_name
        )
        # What the API's CORS and the functions' WEB_ORIGIN name; the pages' own base URL.
        self.origin = f"https://{self.domain_name}"
        self._acknowledge(china)

    def _china_parameters(self) -> None:
        self.domain_parameter = cdk.CfnParameter(
            self,
            "WebDomain",
            type="String",
            description=(
                "The ICP-filed domain the web pages are served at (CloudFront in the China regions serves "
                "no content on *.cloudfront.cn); its CNAME points at the output WebDistributionDomain."
            ),
            allowed_pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
            constraint_description="a lowercase domain name (docs/deploy.md, Web pages)",
        )
        self.domain_parameter.override_logical_id("WebDomain")
        self.certificate_parameter = cdk.CfnParameter(
            self,
            "WebCertificateId",
            type="String",
            description=(
                "The IAM server certificate for WebDomain (its ServerCertificateId, ASCA...), uploaded with "
                "aws iam upload-server-certificate --path /cloudfront/ (no ACM for CloudFront in China)."
            ),
            allowed_pattern=r"^[A-Z0-9]{16,32}$",
            constraint_description="an IAM ServerCertificateId (docs/deploy.md, Web pages)",
        )
        self.certificate_parameter.override_logical_id("WebCertificateId")

    def _china_distribution(self) -> None:
        assert self.domain_parameter is not None and self.certificate_parameter is not None
        cfn = self.distribution.node.default_child
        assert isinstance(cfn, cloudfront.CfnDistribution)
        cfn.add_property_override("DistributionConfig.Aliases", [self.domain_parameter.value_as_string])
        cfn.add_property_override(
            "DistributionConfig.ViewerCertificate",
            {
                "IamCertificateId": self.certificate_parameter.value_as_string,
                "SslSupportMethod": "sni-only",
                "MinimumProtocolVersion": "TLSv1.2_2021",
            },
        )

    def deploy(
        self, *, identity: Mapping[str, Any], docs_url: str, time_zone: str
    ) -> s3deploy.BucketDeployment:
        """Upload the pages and config.json (deploy-time values: the API's URL, the sign-in settings), then
        invalidate the distribution."""
        config = {
            "api_url": api_url(self.api),
            "time_zone": time_zone,
            "map": {"center": list(HANGZHOU), "zoom": MAP_ZOOM, "tiles": self.tiles},
            "identity": dict(identity),
            "docs_url": docs_url,
            # Without the folder rewrite (the China regions have no CloudFront Functions) the pages link
            # to /map/index.html rather than /map/ (web/assets/core.js).
            "folder_urls": self.folder_index is not None,
        }
        self.config = config
        deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[
                s3deploy.Source.asset(str(self.folder)),
                s3deploy.Source.json_data(CONFIG_OBJECT, config),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            # Unversioned URLs: browsers revalidate (ETag) rather than keep a stale page or config.
            cache_control=[s3deploy.CacheControl.no_cache()],
            prune=True,
            memory_limit=256,
        )
        self._acknowledge_deployment(deployment)
        return deployment

    def _acknowledge_deployment(self, deployment: s3deploy.BucketDeployment) -> None:
        """CDK's BucketDeployment runs one singleton function (per memory size) in the stack: its role and
        runtime are CDK's, not ours to set."""
        handler = deployment.handler_role.node.scope  # the singleton function the role belongs to
        assert handler is not None
        bucket = cdk.Stack.of(self).get_logical_id(cast(cdk.CfnElement, self.bucket.node.default_child))
        why = (
            "CDK's BucketDeployment handler (a custom resource run at deploy time only) copies the "
            "synthesized pages from the CDK asset bucket into the pages bucket and invalidates the "
            "distribution: "
        )
        cdk.Validations.of(deployment.handler_role).acknowledge(
            cdk.Acknowledgment(
                id=(
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]"
                ),
                reason=why + "AWSLambdaBasicExecutionRole is its CloudWatch Logs permission, set by CDK.",
            ),
            *(
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Action::{action}]",
                    reason=why + f"{action} is the S3 read, list or delete family CDK grants for that copy.",
                )
                for action in ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")
            ),
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{asset_objects(cdk.Stack.of(self))}]",
                reason=why + "it reads the asset zip from the bootstrap asset bucket, keyed by hash.",
            ),
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
                reason=why + "every object of the pages bucket is a page, asset or config.json it replaces.",
            ),
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=why + "cloudfront:CreateInvalidation and GetInvalidation, granted by CDK on any "
                "distribution (the distribution's id is known only once it exists).",
            ),
        )
        cdk.Validations.of(handler).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-L1",
                reason=why + "its Python runtime is pinned by the aws-cdk-lib release (AWS CLI layer).",
            )
        )

    def _acknowledge(self, china: bool) -> None:
        acknowledgements = [
            cdk.Acknowledgment(
                id="AwsSolutions-CFR1",
                reason=(
                    "No geo restriction: the public AED map is for anyone, anywhere (visitors, roaming "
                    "phones); the pages are static and hold no data, which the API serves by role."
                ),
            ),
            cdk.Acknowledgment(
                id="AwsSolutions-CFR2",
                reason=(
                    "No WAF on the distribution: it serves static files only (GET/HEAD, cached); every "
                    "request that reads or writes data goes to the API, which has its own web ACL. A "
                    "CLOUDFRONT-scope web ACL exists only in us-east-1, outside this regional stack."
                ),
            ),
        ]
        if china:
            acknowledgements += [
                cdk.Acknowledgment(
                    id="AwsSolutions-CFR4",
                    reason=(
                        "The viewer certificate is the WebDomain's IAM server certificate with minimum "
                        "protocol TLSv1.2_2021, set by a property override (CloudFront in China takes no "
                        "ACM certificate, which is all the Distribution construct accepts), which cdk-nag "
                        "does not read."
                    ),
                ),
                cdk.Acknowledgment(
                    id="AwsSolutions-CFR7",
                    reason=(
                        "CloudFront in the China regions has no origin access control "
                        "(AWS::CloudFront::OriginAccessControl does not exist there): an origin access "
                        "identity reads the private bucket instead."
                    ),
                ),
            ]
        else:
            acknowledgements.append(
                cdk.Acknowledgment(
                    id="AwsSolutions-CFR4",
                    reason=(
                        "Served on the distribution's default *.cloudfront.net certificate, with which "
                        "CloudFront allows TLSv1 at the viewer; HTTPS only (HTTP redirects), HSTS. A custom "
                        "domain with an ACM certificate would allow TLSv1.2_2021 only (docs/deploy.md)."
                    ),
                )
            )
        cdk.Validations.of(self.distribution).acknowledge(*acknowledgements)
