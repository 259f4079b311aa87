"""The handlers read the caller from either profile's authorizer: the Cognito authorizer's claims (global)
or the OIDC Lambda authorizer's flat context (cn). Both shapes give the same caller, and nothing outside
the verified fields can add a role."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.identity import ANONYMOUS, ROLES, caller_from_authorizer
from shared.oidc import Verified

subs = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=40)
role_sets = st.sets(st.sampled_from(sorted(ROLES)))


@given(subs, role_sets)
def test_both_profiles_shapes_give_the_same_caller(sub, roles):
    cognito = {"claims": {"sub": sub, "token_use": "id", "cognito:groups": ",".join(sorted(roles))}}
    verified = Verified(sub=sub, roles=tuple(sorted(roles)))
    lambda_authorizer = {"principalId": sub, **verified.authorizer_context()}
    assert caller_from_authorizer(cognito) == caller_from_authorizer(lambda_authorizer)
    assert caller_from_authorizer(lambda_authorizer).roles == frozenset(roles)


def test_no_authorizer_or_no_subject_is_anonymous():
    assert caller_from_authorizer(None) == ANONYMOUS
    assert caller_from_authorizer({}) == ANONYMOUS
    assert caller_from_authorizer({"principalId": "x", "groups": "admin"}) == ANONYMOUS


def test_only_the_verified_fields_carry_roles():
    # A Lambda authorizer's context holds what the authorizer put there and nothing else; the handlers
    # still read roles from one field only, and unknown names are dropped.
    caller = caller_from_authorizer(
        {"principalId": "u1", "sub": "u1", "groups": "responder,root", "cognito:groups": "admin"}
    )
    assert caller.roles == frozenset({"responder"})
