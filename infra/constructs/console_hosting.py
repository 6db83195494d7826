"""The web console, hosted: its static files in a private bucket, served only through CloudFront.

The bucket is no website: CloudFront reads it through Origin Access Control, and the bucket policy
lets in nobody else. Every response carries a strict Content-Security-Policy: the console's own
scripts and styles only, and connections only to this stage's WebSocket API (plus the Cognito
domain, when there is a hosted sign-in), so an injected script could neither load nor send anywhere.

The files are laid out as the local stack serves them (``index.html`` at the root, the rest under
``console/``), and ``console/config.js`` is generated here, naming this stage's WebSocket URL in
place of the placeholder in the repository. Every file is ``no-cache``: browsers revalidate it by
ETag (a 304 for each of a few small files per page load), so a deploy shows at once and the ES
modules never mix versions. Caching them for longer would need an invalidation on each deploy, and
CDK grants that on every distribution in the account ('*').
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import DefaultStackSynthesizer, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.definitions import REPO_ROOT
from infra.nag import acknowledge
from infra.policies import acknowledge_wildcard

CONSOLE_DIR = REPO_ROOT / "clients" / "cloutagent_client" / "console"  # static files, no build step
ASSETS_PREFIX = "console/"  # where index.html looks for them (see its <script> and <link> tags)
CONFIG_FILE = "config.js"
# The console needs none of these; denying them keeps an injected script from asking for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()" for feature in
    ("accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb")
)


@dataclass(frozen=True, kw_only=True)
class HostedSignIn:
    """The Cognito hosted UI the console's "Sign in with Cognito" goes to (app.js, ``cognito``)."""

    domain: str  # https://<prefix>.auth.<region>.amazoncognito.com or a custom domain
    client_id: str


def content_security_policy(*, websocket_origin: str, sign_in: HostedSignIn | None = None) -> str:
    """Only the console's own files; connections only to its API (and the hosted sign-in's token endpoint)."""
    extra = f" {sign_in.domain}" if sign_in else ""
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # the favicon is a data: URL
        "font-src 'self'",
        f"connect-src 'self' {websocket_origin}{extra}",
        "base-uri 'none'",
        f"form-action 'self'{extra}",
        "frame-ancestors 'none'",
    ])


def console_config(*, websocket_url: str, sign_in: HostedSignIn | None = None) -> dict[str, Any]:
    """What app.js reads as ``window.CLOUTAGENT_CONFIG``."""
    config: dict[str, Any] = {"wsUrl": websocket_url}
    if sign_in:
        config["cognito"] = {"domain": sign_in.domain, "clientId": sign_in.client_id}
    return config


class ConsoleHosting(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        websocket_url: str,
        websocket_origin: str,
        sign_in: HostedSignIn | None = None,
        log_retention: logs.RetentionDays,
        log_expiration: Duration,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.logs_bucket = self._logs_bucket(log_expiration, removal_policy)
        self.bucket = s3.Bucket(
            self,
            "Files",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix="files/",
            removal_policy=removal_policy,
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="cloutagent console: CSP and security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(websocket_origin=websocket_origin, sign_in=sign_in),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, preload=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                # Nothing the console links to needs to know where the visitor came from.
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(custom_headers=[
                cloudfront.ResponseCustomHeader(header="Permissions-Policy", value=PERMISSIONS_POLICY, override=True),
                cloudfront.ResponseCustomHeader(
                    header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                ),
            ]),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="cloutagent web console",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self.logs_bucket,
            log_file_prefix="cloudfront/",
        )
        self._acknowledge_distribution()
        self._deploy(websocket_url=websocket_url, sign_in=sign_in, log_retention=log_retention,
                     removal_policy=removal_policy)

    @property
    def url(self) -> str:
        """https:// URL of the console."""
        return f"https://{self.distribution.distribution_domain_name}"

    def _logs_bucket(self, expiration: Duration, removal_policy: RemovalPolicy) -> s3.Bucket:
        # CloudFront's standard logs are delivered with object ACLs, which the stack's shared
        # access-log bucket (Data) disables on purpose, so the console keeps its own log bucket.
        bucket = s3.Bucket(
            self,
            "Logs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # CloudFront and S3 logging deliver to SSE-S3 only
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=expiration)],
            removal_policy=removal_policy,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "This bucket is the console's log target (CloudFront and the files bucket's server access "
            "logs); logging it into itself would recurse and logging it elsewhere only moves the problem.",
        )
        return bucket

    def _acknowledge_distribution(self) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The console is for a team's members wherever they are; what they may do is decided by "
            "sign-in and the API's authorizer, not by the country they connect from.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves a few static, public, read-only files (GET/HEAD only) with no "
            "data behind them; the API the console talks to is the throttled WebSocket stage, not this.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The console is served on its *.cloudfront.net name, whose certificate comes with CloudFront's "
            "fixed TLSv1 policy (only a custom domain's certificate can raise it); browsers negotiate TLS 1.2+.",
        )

    def _deploy(
        self, *, websocket_url: str, sign_in: HostedSignIn | None, log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        # Both deployments share one handler (a CDK singleton), so they share its role and log group.
        # Its own role: CDK's default would also get the account-wide AWSLambdaBasicExecutionRole.
        log_group = logs.LogGroup(self, "DeploymentLogs", retention=log_retention, removal_policy=removal_policy)
        role = iam.Role(self, "DeploymentRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        s3deploy.BucketDeployment(
            self,
            "Assets",
            destination_bucket=self.bucket,
            destination_key_prefix=ASSETS_PREFIX,
            sources=[s3deploy.Source.asset(str(CONSOLE_DIR), exclude=["index.html", CONFIG_FILE])],
            # Also keeps pruning away from the generated config.js, which the other deployment writes.
            exclude=[CONFIG_FILE],
            cache_control=[s3deploy.CacheControl.no_cache()],
            role=role,
            log_group=log_group,
        )
        config = Stack.of(self).to_json_string(console_config(websocket_url=websocket_url, sign_in=sign_in))
        s3deploy.BucketDeployment(
            self,
            "Entry",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(CONSOLE_DIR), exclude=["*", "!index.html"]),
                s3deploy.Source.data(f"{ASSETS_PREFIX}{CONFIG_FILE}", f"window.CLOUTAGENT_CONFIG = {config};\n"),
            ],
            # The root also holds console/, which belongs to the other deployment.
            prune=False,
            cache_control=[s3deploy.CacheControl.no_cache()],
            role=role,
            log_group=log_group,
        )
        self._acknowledge_deployment(role)

    def _acknowledge_deployment(self, role: iam.Role) -> None:
        """What CDK's BucketDeployment grants its handler: read the staged assets, sync the files bucket."""
        stack = Stack.of(self)
        for action in ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*"):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Action::{action}]",
                "CDK's BucketDeployment grants these to its handler, on the staged CDK assets and on the "
                "console's files bucket only: it syncs the files in and prunes files no longer shipped.",
            )
        acknowledge_wildcard(
            role, self.bucket.arn_for_objects("*"),
            "The handler writes and prunes the console's files; the bucket holds nothing else.",
        )
        qualifier = stack.synthesizer.bootstrap_qualifier or DefaultStackSynthesizer.DEFAULT_QUALIFIER
        acknowledge_wildcard(
            role, f"arn:{stack.partition}:s3:::cdk-{qualifier}-assets-{stack.account}-{stack.region}/*",
            "The handler reads the zipped console files CDK staged in its bootstrap assets bucket; the "
            "object keys are content hashes known only at deploy time.",
        )
        (handler,) = [c for c in stack.node.children if isinstance(c, lambda_.Function) and c.role is role]
        acknowledge(
            handler,
            "AwsSolutions-L1",
            "CDK's BucketDeployment handler: aws-cdk-lib pins its runtime together with the AWS CLI "
            "layer it ships, and moves both on upgrade; it runs only during deploys.",
        )
