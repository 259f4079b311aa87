"""POST /v1/aeds/import through the real handler on the embedded AWS: upserts by (source, source_id),
registry fields only, per-item rejections, and what the public's searches then find."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cli.registries import taiwan_mohw
from shared.dal.aed_registry import DynamoAeds
from shared.dal.models.aed_registry import AedModel
from shared.logic.aed_import import aed_id_for

MANAGER = {"sub": "manager-1", "roles": ("aed_manager",)}
TAIWAN = Path(__file__).resolve().parents[1] / "data" / "taiwan_aed_registry_2018.csv"
WEDNESDAY_NOON = "2026-12-02T12:00:00+08:00"
SUNDAY_3AM = "2026-12-06T03:00:00+08:00"


@pytest.fixture(scope="module")
def taipei():
    """Taipei's AEDs from the real registry, as the import command reads them (API items)."""
    records = [r for r in taiwan_mohw.read(TAIWAN).records if r.city == "臺北市"]
    return {r.name + "|" + (r.placement or ""): r.item() for r in records}


def item(source_id, **fields):
    base = {"source_id": source_id, "lat": 25.0330, "lng": 121.5654, "name": f"AED {source_id}"}
    return {**base, "opening_hours": "24/7", **fields}


def send(api, items, source="taiwan-mohw", **who):
    reply = api("POST", "/v1/aeds/import", {"source": source, "items": items}, **(who or MANAGER))
    assert reply.status == 200, reply.body
    return reply.body["results"]


def outcomes(results):
    return [r["outcome"] for r in results]


def nearby(api, lat, lng, at, radius_m=300):
    query = {"lat": lat, "lng": lng, "radius_m": radius_m, "at": at, "limit": 100}
    reply = api("GET", "/v1/aeds/nearby", query=query)
    assert reply.status == 200, reply.body
    return [i["aed_id"] for i in reply.body["items"]]


def test_real_rows_are_created_then_a_reimport_changes_nothing(api, taipei):
    items = list(taipei.values())[:60]
    first = send(api, items)
    assert outcomes(first) == ["created"] * 60
    assert [r["source_id"] for r in first] == [i["source_id"] for i in items]
    assert [r["aed_id"] for r in first] == [aed_id_for("taiwan-mohw", i["source_id"]) for i in items]
    again = send(api, items)
    assert outcomes(again) == ["unchanged"] * 60
    assert [r["aed_id"] for r in again] == [r["aed_id"] for r in first]
    assert AedModel.count() == 60


def test_new_aeds_carry_their_registry_and_their_importer(api, taipei):
    school = taipei["臺北市北投區逸仙國民小學|學校行政大樓1樓川堂"]
    [result] = send(api, [school])
    aed = DynamoAeds().get(result["aed_id"])
    assert aed is not None
    assert (aed.source, aed.source_id) == ("taiwan-mohw", school["source_id"])
    assert aed.status == "ok" and aed.manager_id == "manager-1"
    assert aed.opening_hours == "Mo-Fr 07:30-16:30" and aed.floor == "1"
    assert (aed.lat, aed.lng) == (school["lat"], school["lng"])


def test_imported_aeds_are_found_when_open_and_not_when_closed(api, taipei):
    school = taipei["臺北市北投區逸仙國民小學|學校行政大樓1樓川堂"]  # Mo-Fr 07:30-16:30
    [result] = send(api, [school])
    assert nearby(api, school["lat"], school["lng"], WEDNESDAY_NOON) == [result["aed_id"]]
    assert nearby(api, school["lat"], school["lng"], SUNDAY_3AM) == []


def test_changed_hours_are_an_update_and_search_follows(api):
    first = send(api, [item("a", opening_hours="Mo-Fr 08:00-17:00"), item("b", lat=25.0340)])
    assert outcomes(first) == ["created", "created"]
    assert nearby(api, 25.0330, 121.5654, SUNDAY_3AM) == [first[1]["aed_id"]]
    again = send(api, [item("a", opening_hours="24/7"), item("b", lat=25.0340)])
    assert outcomes(again) == ["updated", "unchanged"]
    assert nearby(api, 25.0330, 121.5654, SUNDAY_3AM) == [first[0]["aed_id"], first[1]["aed_id"]]


def test_a_moved_aed_is_searched_at_its_new_place(api):
    [created] = send(api, [item("m")])
    [moved] = send(api, [item("m", lat=25.0500)])
    assert moved["outcome"] == "updated" and moved["aed_id"] == created["aed_id"]
    assert nearby(api, 25.0330, 121.5654, WEDNESDAY_NOON) == []
    assert nearby(api, 25.0500, 121.5654, WEDNESDAY_NOON) == [created["aed_id"]]


def test_what_managers_own_survives_a_reimport(api):
    [created] = send(api, [item("k", placement="大廳")])
    aed_id = created["aed_id"]
    assert DynamoAeds().get(aed_id).manager_id == MANAGER["sub"]  # the importer manages what it created
    patch = {"status": "faulty", "pads_expire_on": "2027-03-01"}
    assert api("PATCH", f"/v1/aeds/{aed_id}", patch, **MANAGER).status == 200
    handover = {"manager_id": "manager-2"}  # only an admin hands a device to another manager
    assert api("PATCH", f"/v1/aeds/{aed_id}", handover, **MANAGER).status == 403
    assert api("PATCH", f"/v1/aeds/{aed_id}", handover, sub="admin-1", roles=("admin",)).status == 200
    [again] = send(
        api, [item("k", placement="一樓大廳", name="新名字")], sub="manager-2", roles=("aed_manager",)
    )
    assert again["outcome"] == "updated"
    aed = DynamoAeds().get(aed_id)
    assert aed is not None and aed.name == "新名字" and aed.placement == "一樓大廳"
    assert aed.status == "faulty" and aed.manager_id == "manager-2"
    assert str(aed.pads_expire_on) == "2027-03-01"
    assert nearby(api, 25.0330, 121.5654, WEDNESDAY_NOON) == []  # still faulty: still out of search


def test_a_manager_updates_by_import_only_the_aeds_they_manage(api):
    [created] = send(api, [item("x")])
    other = {"sub": "manager-2", "roles": ("aed_manager",)}
    [refused, new] = send(api, [item("x", name="改名"), item("y")], **other)
    assert (refused["outcome"], refused["aed_id"]) == ("rejected", created["aed_id"])
    assert "another aed_manager" in refused["reason"]
    assert new["outcome"] == "created" and DynamoAeds().get(new["aed_id"]).manager_id == "manager-2"
    assert DynamoAeds().get(created["aed_id"]).name == "AED x"  # nothing written
    [by_admin] = send(api, [item("x", name="改名")], sub="admin-1", roles=("admin",))
    assert by_admin["outcome"] == "updated"


def test_an_emptied_registry_field_is_cleared(api):
    [created] = send(api, [item("c", address="臺北市信義區", contact_phone="02-1234")])
    [again] = send(api, [item("c")])
    assert again["outcome"] == "updated"
    aed = DynamoAeds().get(created["aed_id"])
    assert aed is not None and aed.address is None and aed.contact_phone is None


def test_bad_items_are_rejected_with_reasons_and_the_others_land(api):
    items = [
        item("ok-1"),
        item("far", lat=95.0),
        "not an object",
        item("hours", opening_hours="whenever"),
        {"lat": 25.03, "lng": 121.56, "name": "no id", "opening_hours": "24/7"},
        item("ok-1"),
        item("ok-2", lng="121.5"),
        item("ok-3"),
    ]
    results = send(api, items)
    assert outcomes(results) == [
        "created",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "created",
    ]
    reasons = [r.get("reason") for r in results]
    assert reasons[1].startswith("lat:")
    assert reasons[2] == "an item must be a JSON object"
    assert reasons[3] == "opening_hours: not valid OpenStreetMap opening_hours syntax"
    assert reasons[4].startswith("source_id:")
    assert reasons[5] == "source_id: repeated in this request"
    assert reasons[6].startswith("lng:")
    assert [r["source_id"] for r in results] == ["ok-1", "far", None, "hours", None, "ok-1", "ok-2", "ok-3"]
    assert AedModel.count() == 2


def test_the_same_source_id_from_two_registries_is_two_aeds(api):
    [taiwan] = send(api, [item("1")], source="taiwan-mohw")
    [osm] = send(api, [item("1")], source="osm")
    assert taiwan["outcome"] == osm["outcome"] == "created" and taiwan["aed_id"] != osm["aed_id"]


def test_concurrent_imports_of_the_same_rows_create_each_aed_once(api):
    items = [item(f"c{i}", lat=25.03 + i * 1e-4) for i in range(40)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda _: send(api, items), range(3)))
    for position in range(40):
        seen = sorted(run[position]["outcome"] for run in runs)
        assert seen == ["created", "unchanged", "unchanged"], (position, seen)
    assert AedModel.count() == 40


def test_more_than_100_items_is_422(api):
    reply = api(
        "POST", "/v1/aeds/import", {"source": "osm", "items": [item(str(i)) for i in range(101)]}, **MANAGER
    )
    assert reply.status == 422 and reply.body["error"]["code"] == "validation_failed"
    assert "100" in reply.body["error"]["message"]
    assert AedModel.count() == 0


@pytest.mark.parametrize("source", ["taiwan", "csv:", "csv:a b", "gov"])
def test_an_unknown_source_is_422(api, source):
    reply = api("POST", "/v1/aeds/import", {"source": source, "items": [item("x")]}, **MANAGER)
    assert reply.status == 422


def test_only_managers_and_admins_import(api):
    body = {"source": "osm", "items": [item("x")]}
    assert api("POST", "/v1/aeds/import", body).status == 401
    assert api("POST", "/v1/aeds/import", body, sub="r1", roles=("responder",)).status == 403
    assert api("POST", "/v1/aeds/import", body, sub="admin-1", roles=("admin",)).status == 200
