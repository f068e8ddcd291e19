"""Hosting of the registration form: a private S3 bucket behind CloudFront.

CloudFront reads the bucket through origin access control (the bucket blocks all public access),
serves HTTPS only, and adds security headers, including a Content-Security-Policy that allows only
the site itself and the API's origin (and, with ``wafChallenge``, AWS WAF's integration origin). The
``web/`` files are deployed with a generated ``config.json`` that carries the API URL and the
disclosure texts, so the same files work locally and deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Duration, IStableStringProducer, Lazy, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from stacks.nag import acknowledge, finding_arn

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


@jsii.implements(IStableStringProducer)
class _Later:
    """A value known only once the rest of the stack exists (the API is built after the site)."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str:
        return self._produce()


def content_security_policy(api_origin: str, waf_sdk_origin: str | None = None) -> str:
    """Only the site itself, plus the API for fetch; nothing inline, no frames, no plugins. With the
    WAF challenge on, AWS WAF's integration origin may serve a script and be fetched from, too."""
    waf = f" {waf_sdk_origin}" if waf_sdk_origin else ""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self'{waf}",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "manifest-src 'self'",
            f"connect-src 'self' {api_origin}{waf}",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "upgrade-insecure-requests",
        )
    )


class WebHosting(Construct):
    """The form's bucket and distribution. Call :meth:`publish` once the API exists."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_origin: Callable[[], str],
        waf_sdk_origin: Callable[[], str | None] = lambda: None,
    ) -> None:
        """``api_origin`` returns the API's origin (``https://<id>.execute-api.<region>.<suffix>``);
        ``waf_sdk_origin`` the origin of AWS WAF's JavaScript integration, or None without the challenge.
        Both are asked for at synthesis, once the API and its firewall exist."""
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Site",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=False,
            # The deployment below removes its files on stack deletion, so the empty bucket can go too.
            removal_policy=RemovalPolicy.DESTROY,
        )
        csp = Lazy.string(_Later(lambda: content_security_policy(api_origin(), waf_sdk_origin())))
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="sms-optin form: CSP allowing only the site and the API (and WAF's SDK), HSTS, no framing",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
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
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="sms-optin registration form",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        self._acknowledge()

    @property
    def origin(self) -> str:
        """The site's origin, for the API's CORS allowlist."""
        return f"https://{self.distribution.distribution_domain_name}"

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}/"

    def publish(self, site_config: Mapping[str, Any]) -> s3deploy.BucketDeployment:
        """Deploy ``web/`` with a generated ``config.json`` (it replaces the local one)."""
        deployment = s3deploy.BucketDeployment(
            self,
            "Files",
            sources=[
                s3deploy.Source.asset(str(WEB_DIR), exclude=["config.json"]),
                s3deploy.Source.json_data("config.json", dict(site_config)),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            retain_on_delete=False,
            memory_limit=256,
        )
        self._acknowledge_deployment_function()
        return deployment

    def _acknowledge_deployment_function(self) -> None:
        """CDK's BucketDeployment function is a singleton at stack level, outside this construct."""
        stack = Stack.of(self)
        for child in stack.node.children:
            if not child.node.id.startswith("Custom::CDKBucketDeployment"):
                continue
            acknowledge(
                child,
                "AwsSolutions-L1",
                "CDK's BucketDeployment function brings its own runtime and AWS CLI layer; it runs only "
                "during deployments, to copy the form's files.",
            )
            acknowledge(
                child,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "CDK's deploy-time BucketDeployment function: the AWS managed policy only lets it write "
                "its own CloudWatch logs.",
            )
            site = stack.get_logical_id(self.bucket.node.default_child)
            for finding in (
                "Action::s3:GetBucket*",
                "Action::s3:GetObject*",
                "Action::s3:List*",
                "Action::s3:Abort*",
                "Action::s3:DeleteObject*",
                f"Resource::{finding_arn(self, 's3:::cdk-hnb659fds-assets-{account}-{region}/*')}",
                f"Resource::<{site}.Arn>/*",
                "Resource::*",  # cloudfront:CreateInvalidation has no resource-level permissions
            ):
                acknowledge(
                    child,
                    f"AwsSolutions-IAM5[{finding}]",
                    "CDK grants its deploy-time BucketDeployment function these S3 actions on the CDK assets "
                    "bucket and the site bucket only (and CloudFront invalidation, which has no resource ARN).",
                )

    def _acknowledge(self) -> None:
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds only the public form's static files and is read solely by CloudFront "
            "through origin access control; its requests are the distribution's, not worth a log bucket.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The form serves whoever may sign up; which countries can register is decided by the "
            "allowed-countries check on the phone number, not by the visitor's location.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves static files only; the API behind the form has its own throttling, "
            "WAF web ACL and the functions' abuse limits, which is where abuse is limited.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "Access logs of static form files add cost without security value here; API Gateway keeps "
            "access logs of every submission.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "With the default *.cloudfront.net certificate CloudFront fixes the viewer TLS policy; a "
            "custom domain with an ACM certificate is needed to enforce TLSv1.2_2021.",
        )
