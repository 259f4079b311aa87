"""Cognito: the app client never allows the implicit OAuth flow nor a placeholder callback (authorization
code only, callbacks from context), and mail goes through SES when a verified identity is given."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.constructs.identity import SesSender, oauth_callback_urls, ses_sender
from tests.infrastructure.conftest import OAUTH_CALLBACKS, SES_IDENTITY, Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def client(s: Synthesized) -> dict[str, Any]:
    """The app's client (the web pages' WebClient: test_infra_web.py)."""
    return dict(s.resources[s.logical_id("Identity/UserPool/AppClient/Resource")]["Properties"])


def user_pool(s: Synthesized) -> dict[str, Any]:
    (found,) = s.of_type("AWS::Cognito::UserPool").values()
    return dict(found["Properties"])


def test_without_callbacks_the_client_has_no_oauth_flow_at_all(synthesized: Synthesized) -> None:
    props = client(synthesized)
    assert props["AllowedOAuthFlowsUserPoolClient"] is False
    assert "AllowedOAuthFlows" not in props and "CallbackURLs" not in props
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["GenerateSecret"] is False
    assert "example.com" not in json.dumps(synthesized.template)


def test_with_callbacks_authorization_code_only(synthesized_with_push: Synthesized) -> None:
    props = client(synthesized_with_push)
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert props["AllowedOAuthFlows"] == ["code"]  # never "implicit"; PKCE, as the client has no secret
    assert props["CallbackURLs"] == list(OAUTH_CALLBACKS)
    assert props["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert props["GenerateSecret"] is False
    assert "example.com" not in json.dumps(synthesized_with_push.template)


def test_mail_goes_through_cognito_without_an_ses_identity(synthesized: Synthesized) -> None:
    assert user_pool(synthesized)["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}


def test_mail_goes_through_ses_with_a_verified_identity(synthesized_with_push: Synthesized) -> None:
    email = user_pool(synthesized_with_push)["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert email["From"] == f"Rescue Nearby <no-reply@{SES_IDENTITY}>"
    arn = email["SourceArn"]["Fn::Join"][1]
    assert arn[-1] == f":identity/{SES_IDENTITY}" and {"Ref": "AWS::Region"} in arn  # the stack's region


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        (
            '["https://app.rescue.cn/cb", "rescuenearby://auth"]',
            ("https://app.rescue.cn/cb", "rescuenearby://auth"),
        ),
        (
            "https://app.rescue.cn/cb, http://localhost:3000/cb",
            ("https://app.rescue.cn/cb", "http://localhost:3000/cb"),
        ),
        (["https://app.rescue.cn/cb", "https://app.rescue.cn/cb"], ("https://app.rescue.cn/cb",)),
    ],
)
def test_callback_context_values(value: Any, expected: tuple[str, ...]) -> None:
    assert oauth_callback_urls(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com",  # CDK's placeholder, which the client used to carry
        '["https://app.example.org/cb"]',
        "http://app.rescue.cn/cb",  # plain http off localhost
        "https://app.rescue.cn/cb#token",  # a fragment is where the implicit flow puts tokens
        '["https://app.rescue.cn/cb"',
        '{"url": "https://app.rescue.cn/cb"}',
    ],
)
def test_a_malformed_callback_context_fails_synthesis(value: str) -> None:
    with pytest.raises(ValueError, match="oauth_callback_urls"):
        oauth_callback_urls(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("no-reply@rescue.cn", SesSender("no-reply@rescue.cn")),
        ("rescue.cn", SesSender("no-reply@rescue.cn", verified_domain="rescue.cn")),
    ],
)
def test_ses_identity_context_values(value: Any, expected: SesSender | None) -> None:
    assert ses_sender(value) == expected


@pytest.mark.parametrize("value", ["rescue", "no-reply@", "arn:aws:ses:cn-north-1:1:identity/x.cn", ["x.cn"]])
def test_a_malformed_ses_identity_fails_synthesis(value: Any) -> None:
    with pytest.raises(ValueError, match="cognito_ses_identity"):
        ses_sender(value)
