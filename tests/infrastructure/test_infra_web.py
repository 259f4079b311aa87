"""The web pages as deployed (infra/constructs/web.py, infra/web_assets.py): a private bucket read only by
CloudFront, strict security headers, folder URLs, config.json with the deployment's API and sign-in, and
the API open to the pages' origin (and only it) across origins. Both profiles."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.web_assets import WebAssetsError, assemble
from shared.routes import ROUTES
from tests.infrastructure.conftest import Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def one(synthesized: Synthesized, cfn_type: str) -> tuple[str, dict[str, Any]]:
    found = synthesized.of_type(cfn_type)
    assert len(found) == 1, (cfn_type, list(found))
    return next(iter(found.items()))


def flat(value: Any) -> str:
    """A template value with its intrinsics written out (for "does it name X" checks)."""
    return json.dumps(value, sort_keys=True)


def pages_bucket(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    logical = synthesized.logical_id("Web/Bucket/Resource")
    return logical, synthesized.resources[logical]


def distribution(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    return one(synthesized, "AWS::CloudFront::Distribution")


def rendered(value: Any) -> str:
    """A template string value as text, its references written ${Ref} and ${Resource.Attribute}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(rendered(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::Select" in value and "Fn::Split" in value["Fn::Select"][1]:
        index, split = value["Fn::Select"]
        separator, text = split["Fn::Split"]
        return f"${{{rendered(text)}.split({separator})[{index}]}}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return "${" + flat(value) + "}"


def csp(synthesized: Synthesized) -> str:
    _, policy = one(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")
    value = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    return rendered(value["ContentSecurityPolicy"]["ContentSecurityPolicy"])


def directives(synthesized: Synthesized) -> dict[str, str]:
    text = csp(synthesized)
    return {part.strip().split(" ")[0]: part.strip() for part in text.split(";")}


# --- the bucket and how CloudFront reads it -----------------------------------------------------------


@pytest.mark.parametrize("profile", ["global", "cn"])
def test_the_pages_bucket_is_private_and_tls_only(synthesized, synthesized_cn, profile):
    stack = synthesized if profile == "global" else synthesized_cn
    logical, bucket = pages_bucket(stack)
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {k: True for k in block} and len(block) == 4
    assert "LoggingConfiguration" in bucket["Properties"]  # server access logs (cdk-nag S1)
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in stack.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical}
    ]
    statements = [s for doc in policies for s in doc]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    readers = [s for s in statements if s["Effect"] == "Allow"]
    assert readers and all(s["Action"] == "s3:GetObject" for s in readers)
    assert not any(s.get("Principal") in ("*", {"AWS": "*"}) for s in readers)


def test_global_cloudfront_reads_the_bucket_with_origin_access_control(synthesized):
    _, dist = distribution(synthesized)
    (origin,) = dist["Properties"]["DistributionConfig"]["Origins"]
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    logical, _ = pages_bucket(synthesized)
    (policy,) = [
        p
        for p in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical}
    ]
    reader = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow")
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "AWS:SourceArn" in flat(reader["Condition"])  # this distribution only
    behavior = dist["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]


def test_cn_uses_an_origin_access_identity_and_the_icp_domain_with_its_iam_certificate(synthesized_cn):
    assert synthesized_cn.of_type("AWS::CloudFront::OriginAccessControl") == {}
    assert synthesized_cn.of_type("AWS::CloudFront::Function") == {}  # none in the China regions
    oai, _ = one(synthesized_cn, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    _, dist = distribution(synthesized_cn)
    config = dist["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert oai in flat(origin["S3OriginConfig"]["OriginAccessIdentity"])
    assert config["Aliases"] == [{"Ref": "WebDomain"}]
    assert config["ViewerCertificate"] == {
        "IamCertificateId": {"Ref": "WebCertificateId"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    parameters = synthesized_cn.template["Parameters"]
    assert {"WebDomain", "WebCertificateId", "OidcAuthorizeUrl", "OidcTokenUrl"} <= set(parameters)
    # Every ARN in the cn template is built from the partition: no "arn:aws:" literal anywhere.
    assert '"arn:aws:' not in json.dumps(synthesized_cn.template)


# --- the headers every answer carries -------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["global", "cn"])
def test_the_content_security_policy_is_strict(synthesized, synthesized_cn, profile):
    stack = synthesized if profile == "global" else synthesized_cn
    found = directives(stack)
    assert found["script-src"] == "script-src 'self'"
    assert found["style-src"] == "style-src 'self'"
    assert found["default-src"] == "default-src 'self'"
    assert found["object-src"] == "object-src 'none'"
    assert found["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe" not in csp(stack) and "*" not in csp(stack) and "http:" not in csp(stack)
    # Fetches: the pages' own origin, the API's (built from the REST API's id) and the token endpoint.
    api = stack.logical_id("Http/Api/Resource")
    connect = found["connect-src"].split(" ")
    assert connect[:3] == [
        "connect-src",
        "'self'",
        f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}",
    ]
    assert len(connect) == 4  # and the sign-in token endpoint's origin (below)
    _, policy = one(stack, "AWS::CloudFront::ResponseHeadersPolicy")
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    _, dist = distribution(stack)
    behavior = dist["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert "ResponseHeadersPolicyId" in behavior


def test_sign_in_origin_is_allowed_to_fetch(synthesized, synthesized_cn):
    domain = synthesized.logical_id("Identity/UserPool/Domain/Resource")
    assert directives(synthesized)["connect-src"].endswith(
        f" https://${{{domain}}}.auth.${{AWS::Region}}.amazoncognito.com"
    )
    assert directives(synthesized_cn)["connect-src"].endswith(" https://${${OidcTokenUrl}.split(/)[2]}")


def test_tile_hosts_are_the_only_image_origins_added(tmp_path_factory):
    from infra.constructs.web import content_security_policy, tile_sources, web_tiles

    tiles = web_tiles(
        json.dumps({"url": "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "subdomains": "ab"})
    )
    assert tile_sources(tiles) == ["https://a.tile.openstreetmap.org", "https://b.tile.openstreetmap.org"]
    policy = content_security_policy(connect=[], images=tile_sources(tiles))
    assert (
        "img-src 'self' data: blob: https://a.tile.openstreetmap.org https://b.tile.openstreetmap.org;"
        in policy
    )
    assert tile_sources({}) == []
    with pytest.raises(ValueError, match="https"):
        web_tiles('{"url": "http://tiles.example.cn/{z}/{x}/{y}.png"}')


# --- folder URLs ---------------------------------------------------------------------------------------


def test_folder_urls_are_served_their_index_html(synthesized):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    _, function = one(synthesized, "AWS::CloudFront::Function")
    code = function["Properties"]["FunctionCode"]
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    uris = [
        "/",
        "/map/",
        "/map",
        "/console/",
        "/cockpit",
        "/assets/app.css",
        "/vendor/leaflet/dist/leaflet.js",
        "/config.json",
    ]
    script = (
        code
        + f"\nconsole.log(JSON.stringify({json.dumps(uris)}.map(u => handler({{request: {{uri: u}}}}).uri)));"
    )
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(out) == [
        "/index.html",
        "/map/index.html",
        "/map/index.html",
        "/console/index.html",
        "/cockpit/index.html",
        "/assets/app.css",
        "/vendor/leaflet/dist/leaflet.js",
        "/config.json",
    ]
    _, dist = distribution(synthesized)
    behavior = dist["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    (association,) = behavior["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"


# --- config.json ---------------------------------------------------------------------------------------


def deployed_config(synthesized: Synthesized) -> dict[str, Any]:
    """config.json as the deployment writes it, its deploy-time values written ${Ref} (rendered)."""
    _, deployment = one(synthesized, "Custom::CDKBucketDeployment")
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == {"Ref": pages_bucket(synthesized)[0]}
    assert props["Prune"] is True and props["DistributionPaths"] == ["/*"]
    staged = [p for p in synthesized.outdir.glob("asset.*/config.json")]
    assert len(staged) == 1, staged
    text = staged[0].read_text(encoding="utf-8")
    for marker, value in {k: v for m in props["SourceMarkers"] for k, v in m.items()}.items():
        text = text.replace(marker, rendered(value))  # each value is a JSON string, quotes included
    return dict(json.loads(text))


def test_global_config_json_names_the_api_and_cognito_sign_in(synthesized):
    config = deployed_config(synthesized)
    api = synthesized.logical_id("Http/Api/Resource")
    stage = synthesized.logical_id("Http/Api/DeploymentStage.prod/Resource")
    assert config["api_url"] == (
        f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/${{{stage}}}"
    )
    assert config["time_zone"] == "Asia/Shanghai"
    assert config["map"] == {"center": [30.2741, 120.1551], "zoom": 12, "tiles": {}}
    client = synthesized.logical_id("Identity/UserPool/WebClient/Resource")
    pool = synthesized.logical_id("Identity/UserPool/Resource")
    domain = synthesized.logical_id("Identity/UserPool/Domain/Resource")
    hosted = f"https://${{{domain}}}.auth.${{AWS::Region}}.amazoncognito.com"
    assert config["identity"] == {
        "kind": "oidc",
        "authority": f"${{{pool}.ProviderURL}}",
        "client_id": f"${{{client}}}",
        "roles_claim": "cognito:groups",
        "authorize_url": f"{hosted}/oauth2/authorize",
        "token_url": f"{hosted}/oauth2/token",
        "logout_url": f"{hosted}/logout",
        "scopes": "openid",
    }


def test_global_web_client_is_public_code_with_pkce_on_the_pages(synthesized):
    client = synthesized.resources[synthesized.logical_id("Identity/UserPool/WebClient/Resource")][
        "Properties"
    ]
    assert client.get("GenerateSecret", False) is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["openid"]
    dist, _ = distribution(synthesized)
    callbacks = [flat(u) for u in client["CallbackURLs"]]
    assert len(callbacks) == 4 and all(dist in u for u in callbacks)
    assert any(u.endswith('/map/"]]}') for u in callbacks)
    assert client["LogoutURLs"] == client["CallbackURLs"]


def test_cn_config_json_names_the_oidc_issuer_parameters(synthesized_cn):
    config = deployed_config(synthesized_cn)
    assert config["identity"] == {
        "kind": "oidc",
        "authority": "${OidcIssuer}",
        "client_id": "${OidcAudience}",
        "roles_claim": "${OidcRolesClaim}",
        "authorize_url": "${OidcAuthorizeUrl}",
        "token_url": "${OidcTokenUrl}",
        "scopes": "openid",
    }
    # Region and URL suffix (amazonaws.com.cn) are CloudFormation's to fill in.
    api = synthesized_cn.logical_id("Http/Api/Resource")
    assert config["api_url"].startswith(
        f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/"
    )


# --- CORS on the API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["global", "cn"])
def test_every_resource_answers_a_preflight_for_the_pages_origin_only(synthesized, synthesized_cn, profile):
    stack = synthesized if profile == "global" else synthesized_cn
    dist, _ = distribution(stack)
    origin = (
        {"Fn::Join": ["", ["'https://", {"Fn::GetAtt": [dist, "DomainName"]}, "'"]]}
        if profile == "global"
        else {"Fn::Join": ["", ["'https://", {"Ref": "WebDomain"}, "'"]]}
    )
    options = [
        m["Properties"]
        for m in stack.of_type("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert len(options) == len({r.path for r in ROUTES})
    for method in options:
        assert method["AuthorizationType"] == "NONE" and method["Integration"]["Type"] == "MOCK"
        (answer,) = method["Integration"]["IntegrationResponses"]
        headers = answer["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == origin
        allowed = headers["method.response.header.Access-Control-Allow-Headers"].strip("'").split(",")
        assert set(allowed) == {"Authorization", "Content-Type", "Idempotency-Key"}
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"].get("ResponseParameters", {})
        for r in stack.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX", *(("UNAUTHORIZED",) if profile == "cn" else ())):
        assert responses[kind]["gatewayresponse.header.Access-Control-Allow-Origin"] == origin, kind


@pytest.mark.parametrize("profile", ["global", "cn"])
def test_every_function_knows_the_pages_origin(synthesized, synthesized_cn, profile):
    stack = synthesized if profile == "global" else synthesized_cn
    dist, _ = distribution(stack)
    expected = (
        {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [dist, "DomainName"]}]]}
        if profile == "global"
        else {"Fn::Join": ["", ["https://", {"Ref": "WebDomain"}]]}
    )
    functions = [
        f["Properties"]
        for f in stack.of_type("AWS::Lambda::Function").values()
        if "WEB_ORIGIN" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    routed = {r.function for r in ROUTES}
    assert len(functions) >= len(routed)
    assert all(f["Environment"]["Variables"]["WEB_ORIGIN"] == expected for f in functions)


# --- without pages; the assembled folder ----------------------------------------------------------------


def test_web_off_deploys_no_pages(tmp_path):
    from tests.infrastructure.conftest import CN_CONTEXT, synthesize

    stack = synthesize(tmp_path, {**CN_CONTEXT, "web": "off"})
    assert not [r for r in stack.resources.values() if r["Type"].startswith("AWS::CloudFront::")]
    assert stack.of_type("Custom::CDKBucketDeployment") == {}
    assert "WebDomain" not in stack.template.get("Parameters", {})
    assert "WEB_ORIGIN" not in json.dumps(stack.template)
    assert not [
        m
        for m in stack.of_type("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]


def fixture_web(root: Path) -> tuple[Path, Path]:
    web, node_modules = root / "web", root / "node_modules"
    (web / "map").mkdir(parents=True)
    (web / "assets").mkdir()
    (web / "index.html").write_text("<h1>home</h1>", encoding="utf-8")
    (web / "map" / "index.html").write_text("<h1>map</h1>", encoding="utf-8")
    (web / "assets" / "core.js").write_text("export {};", encoding="utf-8")
    (web / "vendor.json").write_text(
        json.dumps({"leaflet": ["dist/leaflet.js", "dist/images/marker-icon.png"]})
    )
    (node_modules / "leaflet" / "dist" / "images").mkdir(parents=True)
    (node_modules / "leaflet" / "dist" / "leaflet.js").write_text("/* leaflet */", encoding="utf-8")
    (node_modules / "leaflet" / "dist" / "images" / "marker-icon.png").write_bytes(b"\x89PNG")
    (node_modules / "leaflet" / "dist" / "leaflet-src.js").write_text("/* not listed */", encoding="utf-8")
    return web, node_modules


def test_assemble_copies_the_pages_and_only_the_listed_vendor_files(tmp_path):
    web, node_modules = fixture_web(tmp_path)
    out = assemble(web, node_modules, tmp_path / "build")
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "assets/core.js",
        "index.html",
        "map/index.html",
        "vendor/leaflet/dist/images/marker-icon.png",
        "vendor/leaflet/dist/leaflet.js",
    ]
    assert assemble(web, node_modules, tmp_path / "build") == out  # unchanged input: the same folder
    (web / "index.html").write_text("<h1>home, changed</h1>", encoding="utf-8")
    changed = assemble(web, node_modules, tmp_path / "build")
    assert changed != out and (changed / "index.html").read_text(encoding="utf-8") == "<h1>home, changed</h1>"


def test_a_vendor_file_missing_from_node_modules_names_npm_ci(tmp_path):
    web, node_modules = fixture_web(tmp_path)
    (node_modules / "leaflet" / "dist" / "leaflet.js").unlink()
    with pytest.raises(WebAssetsError, match=r"leaflet/dist/leaflet\.js.*npm ci"):
        assemble(web, node_modules, tmp_path / "build")
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").iterdir())


@pytest.mark.parametrize("path", ["dist/*.js", "../secret.js", "/etc/passwd", "dist/./leaflet.js"])
def test_vendor_paths_must_be_plain_relative_paths(tmp_path, path):
    web, node_modules = fixture_web(tmp_path)
    (web / "vendor.json").write_text(json.dumps({"leaflet": [path]}))
    with pytest.raises(WebAssetsError, match="relative path inside the package"):
        assemble(web, node_modules, tmp_path / "build")
