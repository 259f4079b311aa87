"""A 120 centre's signed calls: what verifies and what is refused (shared/logic/dispatch/signatures.py and
inbound.authenticate). Every instant is given: ``now`` to our checks, and time-machine pins the clock the
``standardwebhooks`` package reads itself to the same instant (no sleeps, any hour of the test run).

The refusals, each a case below:

| the call                                              | answer                  |
|-------------------------------------------------------|-------------------------|
| signed with the centre's secret, timestamp now        | verified                |
| a signature that is not the HMAC (random bytes)       | refused                 |
| signed with another secret                            | refused                 |
| timestamp 5 min + 1 s old / 5 min old                 | refused / verified      |
| timestamp 5 min + 1 s ahead / 5 min ahead             | refused / verified      |
| timestamp not Unix seconds                            | refused                 |
| webhook-id, -timestamp or -signature missing          | refused                 |
| header names in any case                              | verified                |
| the body changed after signing (one byte, re-encoded) | refused                 |
| the id or the timestamp changed after signing         | refused                 |
| several signatures, one valid (others wrong/malformed)| verified                |
| the previous secret, within 24 h of the rotation      | verified                |
| the previous secret, 24 h after the rotation or later | refused                 |
| an unknown centre, a centre with no secret issued     | the same 401 as a bad signature |
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from standardwebhooks import Webhook

from shared.errors import Unauthorized
from shared.logic.dispatch import inbound
from shared.logic.dispatch.ports import DispatchCentre, SigningSecrets
from shared.logic.dispatch.signatures import (
    ROTATION_GRACE,
    BadSignature,
    keys_at,
    new_secret,
    verify,
)

NOW = datetime(2026, 12, 6, 3, 0, 0, tzinfo=UTC)
SECRET = new_secret()
OTHER = new_secret()
BODY = json.dumps(
    {
        "cad_incident_no": "HZ-20261206-0001",
        "nature": "cardiac_arrest",
        "lat": 30.259,
        "lng": 120.1605,
        "address": "上城区湖滨路 1 号",
    },
    ensure_ascii=False,
)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """The package's own clock reads NOW, the instant every test passes as ``now``."""
    with time_machine.travel(NOW, tick=False):
        yield


def signed(
    body: str = BODY,
    secret: str = SECRET,
    *,
    webhook_id: str = "msg_2Yw9b5rT7Kq",
    at: datetime = NOW,
) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
    }


def refused(headers: dict[str, str], body: str = BODY, keys: list[str] | None = None) -> bool:
    try:
        verify(keys or [SECRET], body, headers, NOW)
    except BadSignature:
        return True
    return False


def test_new_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32


def test_a_call_signed_with_the_centres_secret_verifies_and_gives_its_webhook_id() -> None:
    assert verify([SECRET], BODY, signed(), NOW) == "msg_2Yw9b5rT7Kq"


def test_a_signature_that_is_not_the_hmac_is_refused() -> None:
    forged = base64.b64encode(b"\x00" * 32).decode()
    assert refused(signed() | {"webhook-signature": f"v1,{forged}"})


def test_a_call_signed_with_another_secret_is_refused() -> None:
    assert refused(signed(secret=OTHER))


@pytest.mark.parametrize(
    ("offset_s", "verified"),
    [(-301, False), (-300, True), (0, True), (300, True), (301, False), (-86400, False), (86400, False)],
)
def test_the_timestamp_must_be_within_five_minutes_of_now(offset_s: int, verified: bool) -> None:
    # Signed correctly at that instant: only its distance from now decides.
    headers = signed(at=NOW + timedelta(seconds=offset_s))
    assert refused(headers) is not verified


@pytest.mark.parametrize("timestamp", ["", "abc", "1.7e9", "-1", " 1796526000", "١٧٩٦٥٢٦٠٠٠", "9" * 20])
def test_a_timestamp_that_is_not_unix_seconds_is_refused(timestamp: str) -> None:
    assert refused(signed() | {"webhook-timestamp": timestamp})


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(missing: str) -> None:
    headers = signed()
    del headers[missing]
    assert refused(headers)
    assert refused(headers | {missing: ""})


def test_header_names_are_matched_in_any_case() -> None:
    headers = {name.title(): value for name, value in signed().items()}  # Webhook-Id, as proxies send
    assert verify([SECRET], BODY, headers, NOW) == "msg_2Yw9b5rT7Kq"


@pytest.mark.parametrize(
    "altered",
    [
        BODY.replace("HZ-20261206-0001", "HZ-20261206-0002"),
        BODY.replace("cardiac_arrest", "cardiac_arresT"),
        BODY + " ",
        json.dumps(json.loads(BODY), separators=(",", ":")),  # the same JSON, re-encoded
        json.dumps(json.loads(BODY), ensure_ascii=True),  # the address as \u escapes
    ],
)
def test_a_body_changed_after_signing_is_refused(altered: str) -> None:
    assert altered != BODY
    assert refused(signed(), body=altered)


def test_the_id_or_the_timestamp_changed_after_signing_is_refused() -> None:
    headers = signed()
    assert refused(headers | {"webhook-id": "msg_other"})
    assert refused(headers | {"webhook-timestamp": str(int(NOW.timestamp()) - 1)})


def test_a_signature_list_with_one_valid_entry_verifies() -> None:
    good = signed()["webhook-signature"]
    wrong = signed(secret=OTHER)["webhook-signature"]
    for entries in (
        [wrong, good],
        [good, wrong],
        ["v1,not-base64!", good],  # a malformed entry does not spoil the list
        ["garbage", good],
        ["v1a,c2lnbmF0dXJl", good],  # an asymmetric (v1a) entry: skipped, not an error
        [wrong, wrong.replace("v1,", "v2,"), good],
    ):
        assert verify([SECRET], BODY, signed() | {"webhook-signature": " ".join(entries)}, NOW)
    assert refused(signed() | {"webhook-signature": " ".join([wrong, "v1,not-base64!", "garbage"])})


def test_the_good_entry_of_another_version_is_not_taken() -> None:
    good = signed()["webhook-signature"]
    assert refused(signed() | {"webhook-signature": good.replace("v1,", "v2,")})


def test_the_previous_secret_verifies_for_24_hours_after_a_rotation_and_never_after() -> None:
    rotated_at = NOW - timedelta(hours=23, minutes=59, seconds=59)
    held = SigningSecrets(
        "v2", current=OTHER, previous=SECRET, previous_valid_until=rotated_at + ROTATION_GRACE
    )
    old, new = signed(secret=SECRET), signed(secret=OTHER)
    assert verify(keys_at(held, NOW), BODY, old, NOW)
    assert verify(keys_at(held, NOW), BODY, new, NOW)
    # From 24 h after the rotation on, the old one is refused; the new one still verifies.
    for later in (timedelta(seconds=1), timedelta(seconds=2), timedelta(days=3)):
        at = NOW + later
        with time_machine.travel(at, tick=False):
            assert keys_at(held, at) == [OTHER]
            with pytest.raises(BadSignature):
                verify(keys_at(held, at), BODY, signed(secret=SECRET, at=at), at)
            assert verify(keys_at(held, at), BODY, signed(secret=OTHER, at=at), at)


def test_a_centre_never_rotated_has_its_current_secret_only() -> None:
    assert keys_at(SigningSecrets("v1", current=SECRET), NOW) == [SECRET]


# --- inbound.authenticate: the centre, its secret, the signature: one answer for every refusal -------


class Centres:
    def __init__(self, *centres: DispatchCentre) -> None:
        self.items = {c.centre_id: c for c in centres}

    def get(self, centre_id: str) -> DispatchCentre | None:
        return self.items.get(centre_id)

    def get_recent(self, centre_id: str) -> DispatchCentre | None:
        return self.items.get(centre_id)


class Secrets:
    def __init__(self, held: dict[str, SigningSecrets]) -> None:
        self.held = held
        self.reads: list[str] = []

    def read(self, centre_id: str, version: str | None) -> SigningSecrets | None:
        self.reads.append(centre_id)
        return self.held.get(centre_id)

    def write(self, centre_id: str, secrets: SigningSecrets) -> None:
        self.held[centre_id] = secrets


def centre(centre_id: str, version: str | None = "v1") -> DispatchCentre:
    area = [119.9, 30.0, 120.5, 30.5]
    return DispatchCentre(
        centre_id, "杭州市急救中心", "https://cad.example.cn/hooks", area, NOW, NOW, secret_version=version
    )


def refusal(
    centres: Centres, secrets: Secrets, centre_id: str, headers: dict[str, str]
) -> tuple[int, str, str]:
    with pytest.raises(Unauthorized) as raised:
        inbound.authenticate(centres, secrets, centre_id, BODY, headers, NOW)
    return raised.value.status, raised.value.code, raised.value.message


def test_an_unknown_centre_gets_exactly_the_answer_a_bad_signature_gets() -> None:
    centres = Centres(centre("hz120"), centre("pending", version=None))
    secrets = Secrets({"hz120": SigningSecrets("v1", SECRET), "pending": SigningSecrets("v0", SECRET)})
    assert inbound.authenticate(centres, secrets, "hz120", BODY, signed(), NOW)[1] == "msg_2Yw9b5rT7Kq"
    bad_signature = refusal(centres, secrets, "hz120", signed(secret=OTHER))
    assert bad_signature[0] == 401
    assert refusal(centres, secrets, "nb120", signed()) == bad_signature  # no such centre
    assert refusal(centres, secrets, "pending", signed()) == bad_signature  # no secret issued yet
    assert refusal(centres, Secrets({}), "hz120", signed()) == bad_signature  # the secret is gone
    assert refusal(centres, secrets, "hz120", signed(at=NOW - timedelta(seconds=301))) == bad_signature
    assert "nb120" not in secrets.reads  # an unknown centre costs no secret read


def test_a_centre_read_a_minute_ago_serves_until_a_call_it_refuses_and_the_fresh_one_accepts() -> None:
    """After a rotation, the centre as read before it (held up to a minute) knows only the old secret:
    a call signed with the new one is checked again against the centre read now, and passes."""
    rotated = centre("hz120", version="v2")
    after = SigningSecrets("v2", OTHER, previous=SECRET, previous_valid_until=NOW + timedelta(hours=24))

    class Stale(Centres):
        def __init__(self) -> None:
            super().__init__(rotated)
            self.fresh_reads = 0

        def get(self, centre_id: str) -> DispatchCentre | None:
            self.fresh_reads += 1
            return super().get(centre_id)

        def get_recent(self, centre_id: str) -> DispatchCentre | None:
            return centre("hz120", version="v1")

    stale = Stale()
    old_secrets = {"v1": SigningSecrets("v1", SECRET), "v2": after}

    class ByVersion(Secrets):
        def read(self, centre_id: str, version: str | None) -> SigningSecrets | None:
            return old_secrets[version or "v2"]

    by_version = ByVersion({})
    assert inbound.authenticate(stale, by_version, "hz120", BODY, signed(), NOW)[0].secret_version == "v1"
    assert stale.fresh_reads == 0  # the old secret still verifies with the centre held: no read
    found, _ = inbound.authenticate(stale, by_version, "hz120", BODY, signed(secret=OTHER), NOW)
    assert found.secret_version == "v2" and stale.fresh_reads == 1
    with pytest.raises(Unauthorized):
        inbound.authenticate(stale, by_version, "hz120", BODY, signed(secret=new_secret()), NOW)
