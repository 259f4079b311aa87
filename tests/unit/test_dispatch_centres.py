"""Registering a 120 centre (shared/logic/dispatch/centres.py), on fakes of its stores: the secret is shown
once, later registrations show none, a rotation keeps the secret before it for 24 h, one issue at a time,
and the callback URL and the area are checked."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import Conflict, ValidationFailed
from shared.logic.dispatch import centres
from shared.logic.dispatch.ports import DispatchCentre, SigningSecrets
from shared.logic.dispatch.signatures import ROTATION_GRACE, keys_at

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
AREA = [119.9, 30.0, 120.5, 30.5]
URL = "https://cad.hz120.example.cn/rescue-nearby/hooks"


class Store:
    """The centres' table as DynamoDispatchCentres behaves: conditions included."""

    def __init__(self) -> None:
        self.items: dict[str, DispatchCentre] = {}

    def get(self, centre_id: str) -> DispatchCentre | None:
        item = self.items.get(centre_id)
        return replace(item) if item else None

    def save_details(
        self, centre_id: str, name: str, callback_url: str, area: list[float], now: datetime
    ) -> DispatchCentre:
        held = self.items.get(centre_id)
        created = held.created_at if held else now
        base = held or DispatchCentre(centre_id, name, callback_url, area, created, now)
        self.items[centre_id] = replace(base, name=name, callback_url=callback_url, area=area, updated_at=now)
        return replace(self.items[centre_id])

    def take_issuing(
        self, centre_id: str, expected_version: str | None, now_epoch: int, lease_until: int
    ) -> bool:
        item = self.items.get(centre_id)
        if item is None or item.secret_version != expected_version:
            return False
        if item.issuing_until is not None and item.issuing_until >= now_epoch:
            return False
        item.issuing_until = lease_until
        return True

    def finish_issuing(
        self,
        centre_id: str,
        lease_until: int,
        version: str,
        issued_at: datetime,
        previous_valid_until: datetime | None,
    ) -> bool:
        item = self.items[centre_id]
        if item.issuing_until != lease_until:
            return False
        item.secret_version, item.secret_issued_at = version, issued_at
        item.previous_secret_valid_until, item.issuing_until = previous_valid_until, None
        return True


class Secrets:
    def __init__(self) -> None:
        self.held: dict[str, SigningSecrets] = {}
        self.writes = 0

    def read(self, centre_id: str, version: str | None) -> SigningSecrets | None:
        return self.held.get(centre_id)

    def write(self, centre_id: str, secrets: SigningSecrets) -> None:
        self.held[centre_id] = secrets
        self.writes += 1


_serial = itertools.count()


def secret() -> str:
    return f"whsec_test{next(_serial)}"


def put(
    store: Store,
    secrets: Secrets,
    *,
    rotate: bool = False,
    now: datetime = NOW,
    url: str = URL,
    loopback: bool = False,
    area: list[float] | None = None,
) -> centres.Registration:
    return centres.put_centre(
        store,
        secrets,
        "hz120",
        "杭州市急救中心",
        url,
        area or AREA,
        rotate=rotate,
        loopback_allowed=loopback,
        now=now,
        new_secret=secret,
    )


def test_the_first_registration_shows_the_secret_once_and_stores_it() -> None:
    store, secrets = Store(), Secrets()
    first = put(store, secrets)
    assert first.secret is not None
    assert secrets.held["hz120"].current == first.secret
    assert first.centre.secret_version == secrets.held["hz120"].version
    assert first.centre.secret_issued_at == NOW and first.centre.issuing_until is None
    again = put(store, secrets, url="https://cad2.hz120.example.cn/hooks", now=NOW + timedelta(hours=1))
    assert again.secret is None  # never shown again
    assert again.centre.callback_url == "https://cad2.hz120.example.cn/hooks"
    assert again.centre.created_at == NOW and again.centre.updated_at == NOW + timedelta(hours=1)
    assert secrets.held["hz120"].current == first.secret and secrets.writes == 1


def test_a_rotation_shows_a_new_secret_and_the_old_one_verifies_for_24_hours() -> None:
    store, secrets = Store(), Secrets()
    old = put(store, secrets).secret
    later = NOW + timedelta(days=30)
    rotated = put(store, secrets, rotate=True, now=later)
    assert rotated.secret not in (None, old)
    held = secrets.held["hz120"]
    assert (held.current, held.previous, held.previous_valid_until) == (
        rotated.secret,
        old,
        later + ROTATION_GRACE,
    )
    assert rotated.centre.previous_secret_valid_until == later + ROTATION_GRACE
    assert keys_at(held, later + ROTATION_GRACE - timedelta(seconds=1)) == [rotated.secret, old]
    assert keys_at(held, later + ROTATION_GRACE) == [rotated.secret]


def test_a_second_rotation_keeps_only_the_secret_just_replaced() -> None:
    store, secrets = Store(), Secrets()
    put(store, secrets)
    second = put(store, secrets, rotate=True, now=NOW + timedelta(hours=1)).secret
    third = put(store, secrets, rotate=True, now=NOW + timedelta(hours=2)).secret
    held = secrets.held["hz120"]
    assert (held.current, held.previous) == (third, second)


def test_a_rotation_that_crashed_before_it_finished_keeps_the_centres_secret_valid() -> None:
    store, secrets = Store(), Secrets()
    shown = put(store, secrets).secret
    in_force = store.items["hz120"].secret_version
    # A rotation wrote its secret, then the function died: nobody saw that one; its lease lapses.
    secrets.held["hz120"] = SigningSecrets("crashed", "whsec_never-shown", shown, NOW + ROTATION_GRACE)
    store.items["hz120"].issuing_until = int(NOW.timestamp()) + 30
    with pytest.raises(Conflict) as busy:
        put(store, secrets, rotate=True, now=NOW + timedelta(seconds=10))
    assert busy.value.code == "secret_being_issued"
    assert store.items["hz120"].secret_version == in_force
    retried = put(store, secrets, rotate=True, now=NOW + timedelta(minutes=5))
    held = secrets.held["hz120"]
    assert (held.current, held.previous) == (retried.secret, shown)  # not the secret nobody was shown


def test_two_first_registrations_at_once_show_one_secret() -> None:
    store, secrets = Store(), Secrets()
    store.save_details("hz120", "杭州市急救中心", URL, AREA, NOW)
    assert store.take_issuing("hz120", None, int(NOW.timestamp()), int(NOW.timestamp()) + 30)  # the other one
    with pytest.raises(Conflict):
        put(store, secrets)  # while the other is issuing: told to try again, no second secret
    store.finish_issuing("hz120", int(NOW.timestamp()) + 30, "v-other", NOW, None)
    assert put(store, secrets).secret is None  # the other's was the first: this one shows none
    assert secrets.writes == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://cad.hz120.example.cn/hooks",
        "https://cad.hz120.example.cn:8443/hooks?src=rescue-nearby",
        "https://203.0.113.10/hooks",
        "https://[2001:db8::1]/hooks",
    ],
)
def test_https_callback_urls_are_taken(url: str) -> None:
    centres.check_callback_url(url, loopback_allowed=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://cad.hz120.example.cn/hooks",  # not encrypted
        "http://127.0.0.1:9000/hooks",  # loopback: the local runtime's only
        "http://localhost:9000/hooks",
        "https://localhost/hooks",  # a deployment never calls itself
        "https://127.0.0.1:8443/hooks",
        "https://user:secret@cad.hz120.example.cn/hooks",  # credentials in a URL end up in logs
        "https://cad.hz120.example.cn/hooks#frag",
        "ftp://cad.hz120.example.cn/hooks",
        "cad.hz120.example.cn/hooks",
        "https:///hooks",
        "https://cad hz120.example.cn/hooks",
        "https://cad.hz120.example.cn:99999/hooks",
    ],
)
def test_other_callback_urls_are_refused_by_a_deployment(url: str) -> None:
    with pytest.raises(ValidationFailed, match=r"^callback_url: must be an https:// URL"):
        centres.check_callback_url(url, loopback_allowed=False)


def test_loopback_callbacks_only_where_the_deployment_allows_them() -> None:
    for url in ("http://127.0.0.1:9000/hooks", "http://localhost:9000/hooks", "https://127.0.0.1:8443/"):
        centres.check_callback_url(url, loopback_allowed=True)
    for url in ("http://127.0.0.1/hooks", "http://192.168.1.10:9000/hooks", "http://example.cn:9000/"):
        with pytest.raises(ValidationFailed):
            centres.check_callback_url(url, loopback_allowed=True)  # a port, and loopback only


@pytest.mark.parametrize(
    "area",
    [[120.5, 30.0, 119.9, 30.5], [119.9, 30.5, 120.5, 30.0], [120.0, 30.0, 120.0, 30.5]],
)
def test_an_area_whose_minimum_is_not_below_its_maximum_is_refused(area: list[float]) -> None:
    store, secrets = Store(), Secrets()
    with pytest.raises(ValidationFailed, match=r"^area: "):
        put(store, secrets, area=area)
    assert store.items == {} and secrets.writes == 0  # nothing stored
