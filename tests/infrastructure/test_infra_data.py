"""The DynamoDB tables in the template are exactly the pynamodb models (keys, types, GSIs, TTL)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from infra import constants as c
from shared.config import env_name, settings
from shared.dal.models import teaching
from shared.dal.models.aed_faults import AedReportModel
from shared.dal.models.aed_registry import AedModel
from shared.dal.models.aed_upkeep import AedInspectionModel, UpkeepReminderModel
from shared.dal.models.certification import (
    CertificateModel,
    CertificateNumberModel,
    CertificateReminderModel,
    ExaminerModel,
    ExamModel,
    ExamScoreModel,
)
from shared.dal.models.cockpit import DistrictModel, RescueSummaryModel
from shared.dal.models.credits import CreditExportModel
from shared.dal.models.debriefs import DebriefModel
from shared.dal.models.dispatch import DeliveryModel, DispatchCentreModel
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.rescue import AlertModel, CreditModel, EventModel, IncidentModel, SosKeyModel
from shared.dal.models.responders import ResponderModel
from shared.dal.models.teams import TeamModel
from shared.dal.tables import ALL_MODELS, TTL_ATTRIBUTES
from shared.geo.cover import INDEX_LEVELS, POLAR_LEVEL
from tests.infrastructure.conftest import Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

SPECS = {spec.model: spec for spec in c.TABLES}


def _keys(attributes: Any) -> tuple[set[tuple[str, str]], dict[str, str]]:
    keys, types = set(), {}
    for attr in attributes:
        if attr.is_hash_key or attr.is_range_key:
            keys.add((attr.attr_name, "HASH" if attr.is_hash_key else "RANGE"))
            types[attr.attr_name] = attr.attr_type
    return keys, types


def expected(model: type[Model]) -> dict[str, Any]:
    """Read from pynamodb's public attribute and index objects (not the _get_schema the CDK code uses)."""
    keys, types = _keys(model.get_attributes().values())
    gsis = {}
    for _, index in inspect.getmembers(model, lambda v: isinstance(v, GlobalSecondaryIndex)):
        index_keys, index_types = _keys(index.Meta.attributes.values())
        types.update(index_types)
        projection = index.Meta.projection
        gsis[index.Meta.index_name] = (
            index_keys,
            projection.projection_type,
            sorted(getattr(projection, "non_key_attributes", None) or []),
        )
    return {"keys": keys, "types": types, "gsis": gsis}


def actual(table: dict[str, Any]) -> dict[str, Any]:
    props = table["Properties"]
    gsis = {
        g["IndexName"]: (
            {(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]},
            g["Projection"]["ProjectionType"],
            sorted(g["Projection"].get("NonKeyAttributes", [])),
        )
        for g in props.get("GlobalSecondaryIndexes", [])
    }
    return {
        "keys": {(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]},
        "types": {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]},
        "gsis": gsis,
    }


def table_of(synthesized: Synthesized, model: type[Model]) -> dict[str, Any]:
    return synthesized.resources[synthesized.logical_id(f"Data/{SPECS[model].construct_id}/Resource")]


@pytest.mark.infra
def test_one_table_per_model(synthesized: Synthesized) -> None:
    synthesized.assertions.resource_count_is("AWS::DynamoDB::Table", len(ALL_MODELS))
    assert set(SPECS) == set(ALL_MODELS)
    # Written out: the rescue loop's tables exist, each keyed as the code writes it.
    assert {m: SPECS[m].construct_id for m in ALL_MODELS} == {
        ResponderModel: "RespondersTable",
        AedModel: "AedsTable",
        GeoIndexModel: "GeoIndexTable",
        IncidentModel: "IncidentsTable",
        SosKeyModel: "SosKeysTable",
        AlertModel: "AlertsTable",
        EventModel: "EventsTable",
        CreditModel: "CreditsTable",
        CreditExportModel: "CreditExportsTable",
        ExaminerModel: "ExaminersTable",
        ExamModel: "ExamsTable",
        ExamScoreModel: "ExamScoresTable",
        CertificateModel: "CertificatesTable",
        CertificateNumberModel: "CertificateNumbersTable",
        CertificateReminderModel: "CertificateRemindersTable",
        AedInspectionModel: "AedInspectionsTable",
        UpkeepReminderModel: "UpkeepRemindersTable",
        AedReportModel: "AedReportsTable",
        teaching.CourseModel: "TrainingCoursesTable",
        teaching.TrainingSessionModel: "TrainingSessionsTable",
        teaching.RegistrationModel: "TrainingRegistrationsTable",
        teaching.RegistrationKeyModel: "TrainingRegistrationKeysTable",
        teaching.TheoryProgressModel: "TrainingTheoryTable",
        teaching.EvaluationModel: "TrainingEvaluationsTable",
        DispatchCentreModel: "DispatchCentresTable",
        DeliveryModel: "DispatchDeliveriesTable",
        RescueSummaryModel: "RescueSummariesTable",  # the cockpit's: docs/cockpit.md
        DistrictModel: "DistrictsTable",
        DebriefModel: "DebriefsTable",  # the debriefs after rescues: docs/volunteers.md
        TeamModel: "TeamsTable",  # rescue teams and E-stations: docs/volunteers.md
    }
    keys = {
        model: {
            (k["AttributeName"], k["KeyType"])
            for k in table_of(synthesized, model)["Properties"]["KeySchema"]
        }
        for model in (SosKeyModel, AlertModel, EventModel, CreditModel, RescueSummaryModel, DistrictModel)
    }
    assert keys == {
        SosKeyModel: {("key_hash", "HASH")},
        AlertModel: {("incident_id", "HASH"), ("responder_id", "RANGE")},
        EventModel: {("incident_id", "HASH"), ("event_id", "RANGE")},
        CreditModel: {("responder_id", "HASH"), ("credit_key", "RANGE")},
        # A period is one Query per local month: the month, then the creation instant and the incident.
        RescueSummaryModel: {("month", "HASH"), ("created_key", "RANGE")},
        DistrictModel: {("district_id", "HASH")},
    }


@pytest.mark.infra
@pytest.mark.parametrize("spec", c.TABLES, ids=lambda s: s.construct_id)
def test_env_var_is_the_setting_the_model_reads_its_table_name_from(spec: c.TableSpec) -> None:
    """A table's name reaches a function in spec.env_var; the model must take its name from that setting."""
    fields = {env_name(f.name): f.name for f in dataclasses.fields(settings())}
    assert spec.env_var in fields
    assert getattr(settings(), fields[spec.env_var]) == spec.model.Meta.table_name
    others = [s for s in c.TABLES if s is not spec]
    assert all(getattr(settings(), fields[s.env_var]) != spec.model.Meta.table_name for s in others)


@pytest.mark.infra
@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_table_matches_model(synthesized: Synthesized, model: type[Model]) -> None:
    assert actual(table_of(synthesized, model)) == expected(model)


@pytest.mark.infra
def test_geo_index_has_a_gsi_per_level(synthesized: Synthesized) -> None:
    gsis = table_of(synthesized, GeoIndexModel)["Properties"]["GlobalSecondaryIndexes"]
    # One per level, and the sparse polar index (only items at |lat| >= POLAR_LAT carry its key).
    assert len(gsis) == len(INDEX_LEVELS) + 1 == 9
    assert f"polar-{POLAR_LEVEL}" in {gsi["IndexName"] for gsi in gsis}
    for gsi in gsis:
        assert gsi["Projection"]["ProjectionType"] == "INCLUDE"
        assert {"entity_id", "lat", "lng"} <= set(gsi["Projection"]["NonKeyAttributes"])


@pytest.mark.infra
@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_table_is_on_demand_recoverable_encrypted_and_retained(
    synthesized: Synthesized, model: type[Model]
) -> None:
    table = table_of(synthesized, model)
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


@pytest.mark.infra
@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_ttl_where_the_model_has_one(synthesized: Synthesized, model: type[Model]) -> None:
    ttl = table_of(synthesized, model)["Properties"].get("TimeToLiveSpecification")
    if model in TTL_ATTRIBUTES:
        assert ttl == {"AttributeName": TTL_ATTRIBUTES[model], "Enabled": True}
    else:
        assert ttl is None


@pytest.mark.infra
def test_ttl_tables_written_out(synthesized: Synthesized) -> None:
    with_ttl = {
        m: table_of(synthesized, m)["Properties"]["TimeToLiveSpecification"]["AttributeName"]
        for m in ALL_MODELS
        if "TimeToLiveSpecification" in table_of(synthesized, m)["Properties"]
    }
    assert with_ttl == {
        GeoIndexModel: "expires_at",
        SosKeyModel: "expires_at",
        CertificateReminderModel: "expires_at",
        UpkeepReminderModel: "expires_at",
        AlertModel: "expires_at",  # a finished rescue's alerts and events: docs/privacy.md
        EventModel: "expires_at",
        DeliveryModel: "expires_at",  # a status webhook's log: the rescue records' retention
        DebriefModel: "expires_at",  # a debrief: a year after it was written (docs/volunteers.md)
    }
