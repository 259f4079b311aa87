"""Every table, in one list: CDK derives the CloudFormation tables from these pynamodb classes and the
local runtime creates them from the same classes, so the two cannot drift. Each class lives beside its
capability in shared/dal/models/; a function imports only the models it uses (a lean cold start)."""

from __future__ import annotations

from pynamodb.models import Model

from shared.dal.models.aed_faults import AedReportModel
from shared.dal.models.aed_registry import AedModel
from shared.dal.models.aed_upkeep import AedInspectionModel, UpkeepReminderModel
from shared.dal.models.certification import CERTIFICATION_MODELS, CertificateReminderModel
from shared.dal.models.cockpit import DistrictModel, RescueSummaryModel
from shared.dal.models.credits import CreditExportModel
from shared.dal.models.debriefs import DebriefModel
from shared.dal.models.dispatch import DeliveryModel, DispatchCentreModel
from shared.dal.models.geo_index import GeoIndexModel
from shared.dal.models.rescue import AlertModel, CreditModel, EventModel, IncidentModel, SosKeyModel
from shared.dal.models.responders import ResponderModel
from shared.dal.models.teaching import TEACHING_MODELS
from shared.dal.models.teams import TeamModel

TTL_ATTRIBUTES: dict[type[Model], str] = {
    GeoIndexModel: "expires_at",
    SosKeyModel: "expires_at",
    AlertModel: "expires_at",
    EventModel: "expires_at",
    UpkeepReminderModel: "expires_at",
    CertificateReminderModel: "expires_at",
    DeliveryModel: "expires_at",
    DebriefModel: "expires_at",
}
ALL_MODELS: tuple[type[Model], ...] = (
    ResponderModel,
    AedModel,
    GeoIndexModel,
    IncidentModel,
    SosKeyModel,
    AlertModel,
    EventModel,
    CreditModel,
    CreditExportModel,
    AedReportModel,
    AedInspectionModel,
    UpkeepReminderModel,
    *TEACHING_MODELS,
    *CERTIFICATION_MODELS,
    DispatchCentreModel,
    DeliveryModel,
    RescueSummaryModel,
    DistrictModel,
    DebriefModel,
    TeamModel,
)
