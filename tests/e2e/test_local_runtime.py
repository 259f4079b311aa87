"""`make run` as a newcomer meets it: one process, HTTP on 127.0.0.1, seeded Hangzhou, tokens from
/dev/token, Ctrl-C to stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
READY_DEADLINE_S = 90  # generous for a loaded CI machine; the start time itself is reported by `make run`


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Platform:
    """`make run` in a subprocess; ``env`` adds to its environment (DEPLOYMENT_PROFILE=cn, SEED_DEMO=0...)."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PORT": str(self.port), "PYTHONUNBUFFERED": "1", **env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_runtime"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.banner: list[str] = []
        deadline = time.monotonic() + READY_DEADLINE_S
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.banner.append(line)
            if "Ctrl-C stops it" in line:
                return
        self.process.kill()
        raise AssertionError("the local runtime did not come up:\n" + "".join(self.banner))

    def token(self, sub: str, *roles: str) -> dict[str, str]:
        reply = requests.post(f"{self.url}/dev/token", json={"sub": sub, "roles": list(roles)}, timeout=10)
        assert reply.status_code == 200
        return {"Authorization": f"Bearer {reply.json()['token']}"}


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    running = Platform()
    yield running
    if running.process.poll() is None:
        running.process.kill()


def test_banner_gives_url_docs_and_a_curl_that_works(platform):
    banner = "".join(platform.banner)
    assert platform.url in banner and f"{platform.url}/docs" in banner
    curl = next(line for line in platform.banner if "curl '" in line)
    url = curl.split("'")[1]
    reply = requests.get(url, timeout=10)
    assert reply.status_code == 200 and reply.json()["items"], "the example curl finds AEDs"
    # Whatever the hour now: the seed keeps AEDs open 24/7 by the curl's point, so at 3 a.m. too.
    sunday_night = requests.get(url, params={"at": "2026-12-06T03:00:00+08:00"}, timeout=10)
    assert sunday_night.status_code == 200 and sunday_night.json()["items"], "none open at 03:00"


def test_seeded_hangzhou_has_the_promised_size(platform):
    features = requests.get(
        f"{platform.url}/v1/aeds", params={"bbox": "119.80,29.90,120.60,30.70"}, timeout=10
    ).json()["features"]
    assert len(features) >= 200
    assert {f["properties"]["status"] for f in features} >= {"ok", "faulty"}
    hours = {f["properties"]["opening_hours"] for f in features}
    assert "24/7" in hours and any("Mo-Fr" in h for h in hours)
    dispatcher = platform.token("dispatcher-1", "dispatcher")
    found = requests.get(
        f"{platform.url}/v1/responders/nearby",
        params={"lat": 30.2460, "lng": 120.1710, "radius_m": 5000, "limit": 100},
        headers=dispatcher,
        timeout=10,
    ).json()["items"]
    assert len(found) >= 20
    distances = [i["distance_m"] for i in found]
    assert distances == sorted(distances)
    admin = platform.token("admin-1", "admin")
    for item in found[:10]:
        profile = requests.get(
            f"{platform.url}/v1/responders/{item['responder_id']}", headers=admin, timeout=10
        ).json()
        assert profile["available"] is True and profile["certificate_valid"] is True


def test_the_gateway_does_the_authorizers_job(platform):
    url = f"{platform.url}/v1/responders/nearby?lat=30.25&lng=120.17"
    assert requests.get(url, timeout=10).status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}
    reply = requests.get(url, headers=forged, timeout=10)
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "unauthorized"
    assert requests.get(url, headers=platform.token("r1", "responder"), timeout=10).status_code == 403
    assert requests.get(url, headers=platform.token("d1", "dispatcher"), timeout=10).status_code == 200


def test_a_responder_goes_on_duty_and_a_dispatcher_finds_them(platform):
    trainer = platform.token("trainer-1", "trainer")
    created = requests.post(
        f"{platform.url}/v1/responders",
        json={
            "name": "赵六",
            "phone": "+8613900000009",
            "certificate_no": "E2E-1",
            "certificate_expires_on": (date.today() + timedelta(days=3 * 365)).isoformat(),
        },
        headers=trainer,
        timeout=10,
    )
    assert created.status_code == 201
    rid = created.json()["responder_id"]
    me = platform.token(rid, "responder")
    presence = requests.put(
        f"{platform.url}/v1/responders/{rid}/presence",
        json={"lat": 29.9000, "lng": 119.5000, "available": True},  # away from the seeded city
        headers=me,
        timeout=10,
    )
    assert presence.status_code == 200 and presence.json()["available"] is True
    found = requests.get(
        f"{platform.url}/v1/responders/nearby",
        params={"lat": 29.9001, "lng": 119.5, "radius_m": 300},
        headers=platform.token("d1", "dispatcher"),
        timeout=10,
    ).json()["items"]
    assert [i["responder_id"] for i in found] == [rid]


def test_docs_openapi_and_outbox_are_served(platform):
    page = requests.get(f"{platform.url}/docs", timeout=10)
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert requests.get(f"{platform.url}/docs/swagger-ui-bundle.js", timeout=10).status_code == 200
    served = requests.get(f"{platform.url}/openapi.json", timeout=10).json()
    assert served == json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert requests.get(f"{platform.url}/dev/outbox", timeout=10).json() == {"items": []}


def test_unknown_routes_and_methods(platform):
    missing = requests.get(f"{platform.url}/v1/nothing", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert requests.delete(f"{platform.url}/v1/health", timeout=10).status_code == 405
    bad = requests.post(f"{platform.url}/dev/token", data="nope", timeout=10)
    assert bad.status_code == 422


def test_ctrl_c_stops_cleanly(platform):
    platform.process.send_signal(signal.SIGINT)
    assert platform.process.wait(timeout=30) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{platform.url}/v1/health", timeout=2)
