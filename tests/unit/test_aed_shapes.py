"""One AED shape where one will do: the shapes made from another stay made from it, and the ones kept
apart (each says why next to it) keep the fields of the shape they mirror. Adding, dropping or renaming a
field on one side only fails here."""

from __future__ import annotations

from dataclasses import fields

import pytest
from pydantic import ValidationError

from cli.registries.records import ImportRecord
from shared.api.aed_import import ImportItem, parse_item
from shared.api.aed_registry import AedDetail, AedOut, AedPatchBody, NearbyAed, NewAedBody
from shared.api.rescue import AedAssignment
from shared.logic.aed_import import REGISTRY_FIELDS, RegistryItem
from shared.logic.aed_registry import AedFields
from shared.logic.ports import Aed

INTERNAL = {"suspended_by", "in_use_by"}  # kept on the AED, never answered


def names(shape: type) -> list[str]:
    model_fields = getattr(shape, "model_fields", None)
    return list(model_fields) if model_fields is not None else [f.name for f in fields(shape)]


def test_an_aed_is_answered_with_every_stored_field_but_the_internal_ones() -> None:
    assert set(names(AedOut)) == set(names(Aed)) - INTERNAL
    assert names(AedDetail) == [*names(AedOut), "upkeep"]


@pytest.mark.parametrize("view", [NearbyAed, AedAssignment])
def test_the_small_views_are_aed_out_fields_as_aed_out_types_them(view: type) -> None:
    for name, field in view.model_fields.items():
        if name == "distance_m":
            continue
        assert field.annotation == AedOut.model_fields[name].annotation, name
    assert names(NearbyAed) == ["aed_id", "lat", "lng", "distance_m", "name", "placement"]


def test_an_assignment_is_the_incidents_aed_option_as_is() -> None:
    from shared.logic.rescue.ports import AedOption

    assert names(AedAssignment) == names(AedOption)
    option = AedOption("a1", 30.1, 120.2, "Lobby", None)
    assert AedAssignment(**option.__dict__).model_dump() == option.__dict__


def test_the_logic_takes_exactly_what_a_manager_may_send() -> None:
    body = [name for name in names(NewAedBody) if name != "crs"]
    assert [name for name in names(AedFields) if name != "given"] == body
    assert set(body) <= set(names(Aed))


def test_a_patch_body_is_the_new_body_with_nothing_required() -> None:
    assert names(AedPatchBody) == names(NewAedBody)
    assert not any(field.is_required() for field in AedPatchBody.model_fields.values())
    assert AedPatchBody.model_validate({}).model_fields_set == set()
    assert AedPatchBody.model_validate({"name": None, "status": None}).model_fields_set == {"name", "status"}
    with pytest.raises(ValidationError):  # the new body's rules still hold
        AedPatchBody.model_validate({"lat": 91.0})
    with pytest.raises(ValidationError):
        AedPatchBody.model_validate({"name": "   "})
    with pytest.raises(ValidationError):
        AedPatchBody.model_validate({"indoor": "yes"})


def test_an_import_item_a_registry_item_and_an_import_record_share_one_field_list() -> None:
    assert names(ImportItem) == ["source_id", *REGISTRY_FIELDS, "crs"]
    assert set(REGISTRY_FIELDS) <= set(names(NewAedBody))
    for name in REGISTRY_FIELDS:  # declared once, for a new AED and for an import alike
        assert repr(ImportItem.model_fields[name]) == repr(NewAedBody.model_fields[name]), name
    assert issubclass(ImportRecord, RegistryItem)
    assert set(names(RegistryItem)) <= set(names(Aed))


def test_a_record_read_by_the_cli_parses_back_to_the_same_registry_item() -> None:
    record = ImportRecord(
        source_id="s1",
        lat=25.03,
        lng=121.56,
        name="Lobby",
        opening_hours="24/7",
        address="1 Main St",
        placement="by the lifts",
        floor="B1",
        indoor=True,
        access="customers",
        contact_phone="02-1234",
        city="臺北市",
        line=7,
    )
    item = record.item()
    assert "city" not in item and "line" not in item
    parsed = parse_item(item)
    assert parsed == RegistryItem(**{f.name: getattr(record, f.name) for f in fields(RegistryItem)})
    sparse = ImportRecord(source_id="s2", lat=25.0, lng=121.5, name="Gate", opening_hours="24/7")
    assert sparse.item() == {
        "source_id": "s2",
        "lat": 25.0,
        "lng": 121.5,
        "name": "Gate",
        "opening_hours": "24/7",
    }
    assert parse_item({**sparse.item(), "address": " ", "indoor": False}) == RegistryItem(
        source_id="s2", lat=25.0, lng=121.5, name="Gate", opening_hours="24/7", indoor=False
    )
