"""Hosting of the form: private bucket, CloudFront with OAC, HTTPS only, CSP, generated config.json."""

from __future__ import annotations

import json

from infra_helpers import get_att, only, props, ref, resources, text


def _csp(template: dict) -> str:
    _, policy = only(template, "AWS::CloudFront::ResponseHeadersPolicy")
    headers = props(policy)["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    return json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])


def test_the_bucket_is_private_encrypted_and_ssl_only(default: dict) -> None:
    _, bucket = only(default, "AWS::S3::Bucket")
    block = props(bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "BucketEncryption" in props(bucket)
    _, policy = only(default, "AWS::S3::BucketPolicy")
    statements = props(policy)["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    readers = [s for s in statements if s["Effect"] == "Allow"]
    assert readers and all(s["Principal"] == {"Service": "cloudfront.amazonaws.com"} for s in readers)
    distribution_id, _ = only(default, "AWS::CloudFront::Distribution")
    assert all(distribution_id in json.dumps(s["Condition"]) for s in readers)  # this distribution only


def test_cloudfront_reads_through_origin_access_control_and_serves_https_only(default: dict) -> None:
    oac_id, oac = only(default, "AWS::CloudFront::OriginAccessControl")
    assert props(oac)["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    _, distribution = only(default, "AWS::CloudFront::Distribution")
    config = props(distribution)["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "https-only"
    assert config["Origins"][0]["OriginAccessControlId"] == get_att(oac_id, "Id")


def test_security_headers_allow_only_the_site_and_the_api(default: dict) -> None:
    csp = _csp(default)
    api_id, _ = only(default, "AWS::ApiGateway::RestApi")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self' https://" in csp and json.dumps(ref(api_id)) in csp
    assert "unsafe-inline" not in csp and "*" not in csp.replace("AWS::", "")
    _, policy = only(default, "AWS::CloudFront::ResponseHeadersPolicy")
    headers = props(policy)["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert headers["ContentTypeOptions"]["Override"] is True


def test_the_form_is_deployed_with_a_generated_config(default: dict) -> None:
    _, deployment = only(default, "Custom::CDKBucketDeployment")
    markers = text(props(deployment)["SourceMarkers"])  # the values filled into config.json
    api_id, _ = only(default, "AWS::ApiGateway::RestApi")
    stage_id, _ = only(default, "AWS::ApiGateway::Stage")
    assert api_id in markers and stage_id in markers and ".execute-api." in markers
    assert props(deployment)["Prune"] is True
    distribution_id, _ = only(default, "AWS::CloudFront::Distribution")
    assert props(deployment)["DistributionId"] == ref(distribution_id)


def test_the_api_allows_the_site_origin_and_the_site_url_is_an_output(default: dict) -> None:
    distribution_id, _ = only(default, "AWS::CloudFront::Distribution")
    options = [
        m
        for m in resources(default, "AWS::ApiGateway::Method").values()
        if props(m)["HttpMethod"] == "OPTIONS"
    ]
    assert options
    for method in options:
        headers = props(method)["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        allowed = json.dumps(headers["method.response.header.Access-Control-Allow-Origin"])
        assert distribution_id in allowed and "'*'" not in allowed
    assert distribution_id in json.dumps(default["Outputs"]["SiteUrl"])


def test_hosting_is_left_out_when_web_is_off(new: dict) -> None:
    assert not resources(new, "AWS::CloudFront::Distribution")
    assert not resources(new, "AWS::S3::Bucket")
    assert "SiteUrl" not in new["Outputs"]
