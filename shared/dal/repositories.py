"""DynamoDB repositories behind the ports of shared/logic/ports.py."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pynamodb.exceptions import DoesNotExist, PutError

from shared.dal.conditions import condition_failed, from_iso, iso
from shared.dal.models import AedModel, ResponderModel
from shared.errors import Conflict
from shared.logic.ports import Aed, Responder


def _num(value: float | Decimal | None) -> float | None:
    return None if value is None else float(value)


class DynamoResponders:
    def create(self, responder: Responder) -> None:
        model = ResponderModel(
            responder_id=responder.responder_id,
            name=responder.name,
            phone=responder.phone,
            certificate_no=responder.certificate_no,
            certificate_expires_on=responder.certificate_expires_on.isoformat(),
            created_at=responder.created_at,
            credits_balance=responder.credits_balance,
            available=False,
        )
        try:
            model.save(condition=ResponderModel.responder_id.does_not_exist())
        except Exception as error:  # a ULID collision: never overwrite a person
            if condition_failed(error):
                raise Conflict("responder already exists") from error
            raise

    def get(self, responder_id: str) -> Responder | None:
        try:
            m = ResponderModel.get(responder_id, consistent_read=True)
        except DoesNotExist:
            return None
        return Responder(
            responder_id=m.responder_id,
            name=m.name,
            phone=m.phone,
            certificate_no=m.certificate_no,
            certificate_expires_on=date.fromisoformat(m.certificate_expires_on),
            created_at=m.created_at,
            credits_balance=int(m.credits_balance or 0),
            available=bool(m.available),
            presence_lat=_num(m.presence_lat),
            presence_lng=_num(m.presence_lng),
            presence_expires_at=m.presence_expires_at,
            push_endpoint_arn=m.push_endpoint_arn,
        )

    def save_presence(self, responder: Responder) -> None:
        ResponderModel(responder_id=responder.responder_id).update(
            actions=[
                ResponderModel.available.set(responder.available),
                ResponderModel.presence_lat.set(responder.presence_lat)
                if responder.presence_lat is not None
                else ResponderModel.presence_lat.remove(),
                ResponderModel.presence_lng.set(responder.presence_lng)
                if responder.presence_lng is not None
                else ResponderModel.presence_lng.remove(),
                ResponderModel.presence_expires_at.set(responder.presence_expires_at)
                if responder.presence_expires_at is not None
                else ResponderModel.presence_expires_at.remove(),
            ],
            condition=ResponderModel.responder_id.exists(),
        )

    def save_push_endpoint(self, responder_id: str, endpoint_arn: str) -> None:
        ResponderModel(responder_id=responder_id).update(
            actions=[ResponderModel.push_endpoint_arn.set(endpoint_arn)],
            condition=ResponderModel.responder_id.exists(),
        )


class DynamoAeds:
    def _model(self, aed: Aed) -> AedModel:
        return AedModel(
            aed_id=aed.aed_id,
            lat=aed.lat,
            lng=aed.lng,
            name=aed.name,
            address=aed.address,
            placement=aed.placement,
            opening_hours=aed.opening_hours,
            status=aed.status,
            created_at=aed.created_at,
            updated_at=aed.updated_at,
            floor=aed.floor,
            indoor=aed.indoor,
            access=aed.access,
            contact_phone=aed.contact_phone,
            manager_id=aed.manager_id,
            source=aed.source,
            source_id=aed.source_id,
            pads_expire_on=iso(aed.pads_expire_on),
            battery_expires_on=iso(aed.battery_expires_on),
            last_inspected_on=iso(aed.last_inspected_on),
            fault=aed.fault,
            suspended_by=aed.suspended_by,
            in_use_by=aed.in_use_by,
        )

    def create(self, aed: Aed) -> None:
        self._model(aed).save(condition=AedModel.aed_id.does_not_exist())

    def save(self, aed: Aed, expected_updated_at: datetime | None = None) -> None:
        """Overwrite the AED; with ``expected_updated_at``, only if nobody saved it since that read
        (Conflict otherwise: the caller re-reads and retries)."""
        condition = AedModel.aed_id.exists()
        if expected_updated_at is not None:
            condition &= AedModel.updated_at == expected_updated_at
        try:
            self._model(aed).save(condition=condition)
        except PutError as error:
            if expected_updated_at is not None and condition_failed(error):
                raise Conflict("the AED changed meanwhile", code="aed_changed") from error
            raise

    def get(self, aed_id: str) -> Aed | None:
        try:
            m = AedModel.get(aed_id, consistent_read=True)
        except DoesNotExist:
            return None
        return aed_from_model(m)


def aed_from_model(m: AedModel) -> Aed:
    return Aed(
        aed_id=m.aed_id,
        lat=float(m.lat),
        lng=float(m.lng),
        name=m.name,
        address=m.address,
        placement=m.placement,
        opening_hours=m.opening_hours,
        status=m.status,
        created_at=m.created_at,
        updated_at=m.updated_at,
        floor=m.floor,
        indoor=m.indoor,
        access=m.access,
        contact_phone=m.contact_phone,
        manager_id=m.manager_id,
        source=m.source,
        source_id=m.source_id,
        pads_expire_on=from_iso(m.pads_expire_on),
        battery_expires_on=from_iso(m.battery_expires_on),
        last_inspected_on=from_iso(m.last_inspected_on),
        fault=m.fault,
    )
