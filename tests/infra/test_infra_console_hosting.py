"""The hosted web console: a private bucket read only by CloudFront, strict headers, this stage's config."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from infra.config import InfraConfig
from infra.constructs.console_hosting import (
    CONSOLE_DIR,
    HostedSignIn,
    console_config,
    content_security_policy,
)
from infra.definitions import load_definitions
from tests.infra.cfn import as_list, getatt, refs

pytestmark = pytest.mark.infra

MARKER = re.compile(r"<<marker:0xbaba:\d+>>")


def _text(node: Any) -> str:
    """A CloudFormation value as readable text: joins joined, references shown as <LogicalId(.Attr)>."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(_text(part) for part in parts)
    if isinstance(node, dict) and "Ref" in node:
        return f"<{node['Ref']}>"
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return "<{}.{}>".format(*node["Fn::GetAtt"])
    raise AssertionError(f"unexpected value {node!r}")


@pytest.fixture(scope="module")
def distribution(synth) -> dict[str, Any]:
    (distribution,) = synth.of_type("AWS::CloudFront::Distribution").values()
    return distribution["Properties"]["DistributionConfig"]


@pytest.fixture(scope="module")
def files_bucket_id(distribution) -> str:
    (origin,) = distribution["Origins"]
    bucket_id, attribute = getatt(origin["DomainName"])
    assert attribute == "RegionalDomainName"
    return bucket_id


@pytest.fixture(scope="module")
def deployments(synth, files_bucket_id) -> dict[str, dict[str, Any]]:
    """Destination key prefix ("" for the root) -> the deployment custom resource's properties."""
    found = [r["Properties"] for r in synth.of_type("Custom::CDKBucketDeployment").values()]
    assert all(d["DestinationBucketName"] == {"Ref": files_bucket_id} for d in found)
    return {d.get("DestinationBucketKeyPrefix", ""): d for d in found}


def _asset_files(synth, zip_key: str) -> dict[str, Path]:
    folder = synth.outdir / f"asset.{zip_key.removesuffix('.zip')}"
    return {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}


def _statements(synth, bucket_id: str) -> list[dict[str, Any]]:
    (policy,) = [p for p in synth.of_type("AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    return as_list(policy["Properties"]["PolicyDocument"]["Statement"])


def test_the_files_bucket_is_private_encrypted_ssl_only_and_no_website(synth, files_bucket_id):
    bucket = synth.resources[files_bucket_id]["Properties"]

    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert "WebsiteConfiguration" not in bucket
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert "LoggingConfiguration" in bucket
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in _statements(synth, files_bucket_id))


def test_only_this_distribution_reads_the_files_through_origin_access_control(synth, distribution, files_bucket_id):
    # GIVEN the distribution's one origin
    (origin,) = distribution["Origins"]
    oac_id, _ = getatt(origin["OriginAccessControlId"])
    (distribution_id,) = synth.of_type("AWS::CloudFront::Distribution")

    # THEN it signs its requests to the bucket (OAC, not the legacy origin access identity)
    assert synth.resources[oac_id]["Type"] == "AWS::CloudFront::OriginAccessControl"
    assert synth.resources[oac_id]["Properties"]["OriginAccessControlConfig"] == {
        "Name": synth.resources[oac_id]["Properties"]["OriginAccessControlConfig"]["Name"],
        "OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4",
    }
    assert origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
    # AND the bucket lets in CloudFront alone, on behalf of this distribution alone, to read objects only
    (allow,) = [s for s in _statements(synth, files_bucket_id) if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert list(allow["Condition"]) == ["StringEquals"]
    (source_arn,) = allow["Condition"]["StringEquals"].values()
    assert list(refs(source_arn)) == [distribution_id]


def test_viewers_are_sent_to_https_and_land_on_the_page(distribution):
    behavior = distribution["DefaultCacheBehavior"]

    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert distribution["DefaultRootObject"] == "index.html"
    assert distribution["Logging"]["Prefix"]


def test_every_response_carries_a_strict_content_security_policy(synth, distribution):
    # GIVEN the response headers policy the distribution attaches
    policy_id = distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
    headers = synth.resources[policy_id]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]

    # THEN only the console's own files run, nothing may frame it, and it connects to this stage's API
    text = _text(csp["ContentSecurityPolicy"])
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "base-uri 'none'",
                      "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in text.split("; "), directive
    (api_id,) = [k for k, r in synth.of_type("AWS::ApiGatewayV2::Api").items()
                 if r["Properties"]["ProtocolType"] == "WEBSOCKET"]
    # (a WebSocket API's ApiEndpoint is its wss:// origin)
    assert f"connect-src 'self' <{api_id}.ApiEndpoint>" in text.split("; ")
    assert csp["Override"] is True


def test_the_usual_security_headers_are_set(synth, distribution):
    policy_id = distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
    config = synth.resources[policy_id]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]

    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 31536000 and hsts["IncludeSubdomains"] and hsts["Preload"]
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] in ("no-referrer", "strict-origin-when-cross-origin")
    custom = {h["Header"]: h["Value"] for h in config["CustomHeadersConfig"]["Items"]}
    assert "camera=()" in custom["Permissions-Policy"]


def test_the_deployed_config_names_this_stages_websocket_url(synth, deployments):
    # GIVEN the deployment of the page and its config (the root of the bucket)
    entry = deployments[""]
    files = {}
    for key, markers in zip(entry["SourceObjectKeys"], entry["SourceMarkers"]):
        for name, path in _asset_files(synth, key).items():
            files[name] = MARKER.sub(lambda m, markers=markers: _text(markers[m.group(0)]), path.read_text())

    # THEN it ships index.html and a generated console/config.js, nothing else
    assert set(files) == {"index.html", "console/config.js"}
    # AND the page loads the config from where it is generated, before the app that reads it
    page = files["index.html"]
    assert '<script src="console/config.js"></script>' in page
    assert page.index("console/config.js") < page.index('src="console/app.js"')
    # AND config.js sets what app.js reads: the same wss:// URL (with its stage) the stack outputs
    prefix, _, rest = files["console/config.js"].partition("window.CLOUTAGENT_CONFIG = ")
    assert prefix == "" and rest.endswith(";\n")
    config = json.loads(rest.removesuffix(";\n"))
    assert config == {"wsUrl": _text(synth.template.to_json()["Outputs"]["WebSocketUrl"]["Value"])}
    assert config["wsUrl"].startswith("wss://")


def test_nothing_is_cached_without_revalidation_so_a_deploy_never_mixes_versions(deployments):
    entry, assets = deployments[""], deployments["console/"]

    assert entry["SystemMetadata"]["cache-control"] == assets["SystemMetadata"]["cache-control"] == "no-cache"
    # Pruning the root would delete console/: only the console/ deployment prunes, and never config.js
    assert entry["Prune"] is False
    assert assets["Prune"] is True and assets["Exclude"] == ["config.js"]


def test_the_console_files_are_shipped_without_the_placeholder_config(synth, deployments):
    (key,) = deployments["console/"]["SourceObjectKeys"]
    shipped = set(_asset_files(synth, key))
    in_repository = {p.relative_to(CONSOLE_DIR).as_posix() for p in CONSOLE_DIR.rglob("*") if p.is_file()}

    assert {"app.js", "client.js", "render.js", "style.css"} <= shipped
    assert shipped == in_repository - {"index.html", "config.js"}


def test_the_stack_outputs_the_console_url(synth):
    (distribution_id,) = synth.of_type("AWS::CloudFront::Distribution")

    url = _text(synth.template.to_json()["Outputs"]["ConsoleUrl"]["Value"])

    assert url == f"https://<{distribution_id}.DomainName>"


# -- without synthesis ---------------------------------------------------------------------------

SIGN_IN = HostedSignIn(domain="https://auth.example.com", client_id="client123")


def test_a_hosted_sign_in_is_allowed_to_be_reached_and_is_configured():
    csp = content_security_policy(websocket_origin="wss://api.example.com", sign_in=SIGN_IN).split("; ")

    assert "connect-src 'self' wss://api.example.com https://auth.example.com" in csp
    assert "form-action 'self' https://auth.example.com" in csp
    assert console_config(websocket_url="wss://api.example.com/prod", sign_in=SIGN_IN) == {
        "wsUrl": "wss://api.example.com/prod",
        "cognito": {"domain": "https://auth.example.com", "clientId": "client123"},
    }


def test_without_a_hosted_sign_in_nothing_else_is_reachable():
    csp = content_security_policy(websocket_origin="wss://api.example.com").split("; ")

    assert "connect-src 'self' wss://api.example.com" in csp
    assert "form-action 'self'" in csp
    assert console_config(websocket_url="wss://api.example.com/prod") == {"wsUrl": "wss://api.example.com/prod"}


@pytest.mark.parametrize(("context", "expected"), [({}, True), ({"hostConsole": "false"}, False)])
def test_the_console_is_hosted_unless_turned_off(context, expected):
    config = InfraConfig.from_context(App(context=context).node, load_definitions())

    assert config.host_console is expected
