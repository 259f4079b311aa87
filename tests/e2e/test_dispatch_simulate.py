"""`rescue-nearby dispatch simulate` as a newcomer runs it beside `make run`: the installed console script
against a seeded local runtime in a subprocess. The centre's receiver verifies every webhook it takes with
the ``standardwebhooks`` package's verifier (cli/dispatch_simulate.py Receiver), and the command says so;
the receiver itself is held to refusing forgeries below."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from cli.dispatch_simulate import Receiver
from shared.logic.dispatch.signatures import new_secret
from tests.e2e.runtime import running

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "rescue-nearby"


@pytest.fixture(scope="module")
def seeded_runtime(tmp_path_factory) -> Iterator[str]:
    # Short waves, as `make demo` uses: the workflow's steps come within seconds.
    with running(tmp_path_factory.mktemp("runtime") / "runtime.log", WAVE_WAIT_SECONDS="3") as url:
        yield url


def simulate(api_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "dispatch", "simulate", "--api-url", api_url, "--wait", "90"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )


def test_simulate_prints_every_status_webhook_of_the_rescue_signed_and_in_order(seeded_runtime):
    run = simulate(seeded_runtime)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    printed = [(line, re.match(r"\s+\+\s*\d+\.\ds\s+(\S+)", line)) for line in out.splitlines()]
    webhooks = [line for line, found in printed if found]
    kinds = [found.group(1) for _, found in printed if found]
    assert kinds[0] == "incident.alerting" and kinds[-1] == "incident.closed"
    assert kinds.count("responder.accepted") == 3
    assert {"responder.arrived", "responder.cpr_started", "responder.aed_attached"} <= set(kinds)
    assert all(line.rstrip().endswith("signature ok]") for line in webhooks)
    assert re.search(
        r"\d+ webhooks received, \d+ expected, 0 missing; signatures all valid; order kept", out
    ), out
    assert "credits_awarded=" in webhooks[-1] and "outcome=transported" in webhooks[-1]

    # Again: the centre exists now, so its secret is rotated for this run, and all still verifies.
    again = simulate(seeded_runtime)
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_receiver_refuses_a_forged_webhook_and_takes_a_repeat_once():
    secret = new_secret()
    with Receiver(secret).start() as receiver:
        body = json.dumps({"type": "incident.alerting", "timestamp": "2026-12-06T03:00:00Z", "data": {}})
        now = datetime.now(UTC)

        def post(signing_secret: str, webhook_id: str) -> int:
            headers = {
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(signing_secret).sign(webhook_id, now, body),
            }
            request = urllib.request.Request(receiver.url, data=body.encode(), headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    return int(reply.status)
            except urllib.error.HTTPError as error:
                return int(error.code)

        assert post(new_secret(), "msg_forged") == 401
        assert post(secret, "msg_1") == 204
        assert post(secret, "msg_1") == 204  # the platform's retry of a webhook already taken
        assert [(r.headers["webhook-id"], r.verified) for r in receiver.received] == [
            ("msg_forged", False),
            ("msg_1", True),
        ]
        assert receiver.duplicates == 1
