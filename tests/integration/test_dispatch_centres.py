"""Registering a 120 dispatch centre through the real handler: the signing secret shown once and kept in
Secrets Manager only, later registrations without it, rotation with both secrets verifying for 24 h, and
what a registration refuses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import time_machine

from shared.config import settings
from shared.dal.models.dispatch import DispatchCentreModel
from tests.integration.dispatch_helpers import ADMIN, Centre, centre, register


def stored_secret(centre_id: str) -> dict[str, object]:
    name = settings().dispatch_secret_prefix + centre_id
    value = boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    return dict(json.loads(value))


def test_the_first_registration_shows_the_secret_once_and_keeps_it_in_secrets_manager_only(api):
    first = register(api)
    assert first.status == 200
    secret = first.body["secret"]
    assert first.body["centre_id"] == "hz120" and secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert stored_secret("hz120")["current"] == secret
    item = DispatchCentreModel.get("hz120").to_simple_dict()
    assert secret not in json.dumps(item, default=str)  # the table names the secret's version, never it
    again = register(api, name="杭州市急救指挥中心", callback_url="https://cad2.hz120.example.cn/hooks")
    assert again.status == 200 and again.body["secret"] is None
    assert (again.body["name"], again.body["callback_url"]) == (
        "杭州市急救指挥中心",
        "https://cad2.hz120.example.cn/hooks",
    )
    assert again.body["created_at"] == first.body["created_at"]
    assert stored_secret("hz120")["current"] == secret  # unchanged


def test_a_rotation_issues_a_new_secret_and_the_old_one_verifies_for_24_hours_only(api):
    hz = centre(api)
    assert hz.incident("HZ-1").status == 202
    start = datetime.now(UTC)
    rotated = register(api, rotate=True)
    assert rotated.status == 200 and rotated.body["secret"] not in (None, hz.secret)
    grace_ends = datetime.fromisoformat(rotated.body["previous_secret_valid_until"])
    assert timedelta(hours=24) <= grace_ends - start < timedelta(hours=24, minutes=1)
    new = Centre(api, "hz120", rotated.body["secret"])
    # Both verify at once (the cached secret of the old version is not what verifies now).
    assert hz.update("HZ-1", "ems_arrived").status == 200
    assert new.update("HZ-1", "ems_arrived").status == 200
    # The centre's CAD sends both signatures while it switches: accepted.
    body = json.dumps({"type": "ems_arrived"})
    both = hz.sign(body)
    both["webhook-signature"] += " " + new.sign(body, both["webhook-id"])["webhook-signature"]
    path = "/v1/dispatch/centres/hz120/incidents/HZ-1/updates"
    assert api("POST", path, raw_body=body, headers=both).status == 200
    with time_machine.travel(grace_ends - timedelta(seconds=5), tick=False):
        assert hz.update("HZ-1", "ems_arrived").status == 200  # still within the 24 h
    with time_machine.travel(grace_ends + timedelta(seconds=1), tick=False):
        refused = hz.update("HZ-1", "ems_arrived")
        assert refused.status == 401 and refused.body["error"]["code"] == "unauthorized"
        assert new.update("HZ-1", "ems_arrived").status == 200


def test_registration_refuses_bad_details_with_422_and_stores_nothing(api):
    for changes in (
        {"area": [120.5, 30.0, 119.9, 30.5]},  # min above max
        {"area": [119.9, 30.0, 120.5]},
        {"area": [119.9, 95.0, 120.5, 30.5]},  # not a latitude
        {"area": ["119.9", 30.0, 120.5, 30.5]},  # strings are not numbers
        {"callback_url": "http://cad.hz120.example.cn/hooks"},
        {"callback_url": "https://user:pw@cad.hz120.example.cn/hooks"},
        {"name": ""},
    ):
        reply = register(api, "hz120", **changes)
        assert reply.status == 422, (changes, reply.body)
    assert register(api, "hz 120").status == 422  # an id must travel in a path as it is
    assert register(api, "-hz120").status == 422
    assert list(DispatchCentreModel.scan()) == []
    with pytest.raises(boto3.client("secretsmanager").exceptions.ResourceNotFoundException):
        stored_secret("hz120")


def test_loopback_callbacks_are_the_local_runtimes_only(api, monkeypatch):
    local = register(api, "local-120", callback_url="http://127.0.0.1:9000/hooks")
    assert local.status == 200  # the local runtime's 120 stand-in listens on loopback
    monkeypatch.setenv("DISPATCH_LOOPBACK_CALLBACKS", "0")  # as every deployment runs
    settings.cache_clear()
    try:
        refused = register(api, "other-120", callback_url="http://127.0.0.1:9000/hooks")
        assert refused.status == 422 and "callback_url" in refused.body["error"]["message"]
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def test_only_an_admin_registers(api):
    body = {"name": "x", "callback_url": "https://x.example.cn/h", "area": [119.9, 30.0, 120.5, 30.5]}
    assert api("PUT", "/v1/dispatch/centres/hz120", body, sub="d", roles=("dispatcher",)).status == 403
    assert api("PUT", "/v1/dispatch/centres/hz120", body).status == 401
    assert api("PUT", "/v1/dispatch/centres/hz120", body, **ADMIN).status == 200
