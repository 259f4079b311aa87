"""The credits exports in AWS (shared/logic/credits_export.py's ports): the ledger's marks on the credits
table, the export records, the people the rows name, the files in S3 and the ed25519 key that signs them
(seeded by a Secrets Manager secret)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition

from shared.dal.certification import DynamoCertificates
from shared.dal.conditions import condition_failed
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.credits import EXPORTS_PARTITION, CreditExportModel
from shared.dal.models.rescue import CreditModel, IncidentModel
from shared.dal.models.responders import ResponderModel
from shared.dal.paging import NOT_OURS, page_token, read_token
from shared.errors import ValidationFailed
from shared.logic.concurrency import each
from shared.logic.credits_export import BUILDING, Export, LedgerCredit, Person

stored(Export, CreditExportModel, storage_only={"kind": "the one partition every export is listed in"})
_PERSON_ATTRIBUTES = ["responder_id", "name", "certificate_no"]


def _credit(m: CreditModel) -> LedgerCredit:
    return LedgerCredit(m.responder_id, m.incident_id, m.reason, int(m.points), m.at, m.exported_in)


def _updated(item: Any, actions: list[Any], condition: Condition) -> bool:
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


class DynamoExportLedger:
    def credits_in_month(self, month: str) -> list[LedgerCredit]:
        """The month's keys from the by-month index, then the items themselves by key, read consistently:
        the index lags and does not hold ``exported_in``."""
        keys = [(m.responder_id, m.credit_key) for m in CreditModel.by_month.query(month)]
        return [_credit(m) for m in CreditModel.batch_get(keys, consistent_read=True)] if keys else []

    def claim(self, credit: LedgerCredit, export_id: str, take_from: str | None) -> bool:
        mark = CreditModel.exported_in
        held = mark.does_not_exist() if take_from is None else mark == take_from
        return _updated(_key(credit), [mark.set(export_id)], CreditModel.credit_key.exists() & held)

    def release(self, credit: LedgerCredit, export_id: str) -> None:
        _updated(_key(credit), [CreditModel.exported_in.remove()], CreditModel.exported_in == export_id)

    def outcomes(self, incident_ids: Sequence[str]) -> dict[str, str | None]:
        if not incident_ids:
            return {}
        found = IncidentModel.batch_get(incident_ids, attributes_to_get=["incident_id", "outcome"])
        return {m.incident_id: m.outcome for m in found}


def _key(credit: LedgerCredit) -> CreditModel:
    return CreditModel(responder_id=credit.responder_id, credit_key=f"{credit.incident_id}#{credit.reason}")


class DynamoExportRecords:
    def create(self, export: Export) -> None:
        to_model(CreditExportModel, export, kind=EXPORTS_PARTITION).save(
            condition=CreditExportModel.export_id.does_not_exist()
        )

    def get(self, export_id: str) -> Export | None:
        try:
            found = CreditExportModel.get(EXPORTS_PARTITION, export_id, consistent_read=True)
        except DoesNotExist:
            return None
        return from_model(Export, found)

    def page(self, limit: int, next_token: str | None) -> tuple[list[Export], str | None]:
        """Newest first, ``limit`` + 1 read: the one more says whether a next page exists."""
        start = read_token(next_token, {"kind", "export_id"}) if next_token else None
        if start is not None and start["kind"]["S"] != EXPORTS_PARTITION:
            raise ValidationFailed(NOT_OURS)
        found = list(
            CreditExportModel.query(
                EXPORTS_PARTITION,
                scan_index_forward=False,
                limit=limit + 1,
                last_evaluated_key=start,
                consistent_read=True,
            )
        )
        items = [from_model(Export, m) for m in found[:limit]]
        token = None
        if len(found) > limit:
            last = items[-1]
            token = page_token({"kind": {"S": EXPORTS_PARTITION}, "export_id": {"S": last.export_id}})
        return items, token

    def finish(self, export: Export) -> bool:
        try:
            to_model(CreditExportModel, export, kind=EXPORTS_PARTITION).save(
                condition=CreditExportModel.status == BUILDING
            )
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def end(self, export_id: str, status: str, now: datetime, only_after_lease: bool) -> bool:
        condition = CreditExportModel.status == BUILDING
        if only_after_lease:
            condition = condition & (CreditExportModel.lease_until < now)
        item = CreditExportModel(kind=EXPORTS_PARTITION, export_id=export_id)
        return _updated(item, [CreditExportModel.status.set(status)], condition)


class DynamoPeople:
    """Responders by key (BatchGetItem), and each one's certificates (the by-holder index), in parallel."""

    def people(self, responder_ids: Sequence[str]) -> dict[str, Person]:
        ids = list(dict.fromkeys(responder_ids))
        if not ids:
            return {}
        records = {
            m.responder_id: m for m in ResponderModel.batch_get(ids, attributes_to_get=_PERSON_ATTRIBUTES)
        }
        held = each(DynamoCertificates().of_holder, ids)
        people: dict[str, Person] = {}
        for responder_id, certificates in zip(ids, held, strict=True):
            if isinstance(certificates, Exception):
                raise certificates
            certificates = sorted(certificates, key=lambda c: c.issued_at)
            record = records.get(responder_id)
            if record is not None:
                people[responder_id] = Person(
                    responder_id, record.name, record.certificate_no, tuple(certificates)
                )
            elif certificates:  # no longer a responder: their last certificate names them
                last = certificates[-1]
                people[responder_id] = Person(
                    responder_id, last.holder_name, last.certificate_no, tuple(certificates)
                )
        return people


class S3ExportFiles:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client, self._bucket = client, bucket

    def put(self, key: str, body: bytes, media_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=media_type)

    def url(self, key: str, expires_s: int) -> str:
        """A presigned GET: the admin's download, no credentials of their own needed at S3."""
        return str(
            self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_s
            )
        )


class ExportKeyMissing(RuntimeError):
    pass


# The secret holds random text (CDK generates it; Secrets Manager cannot generate an ed25519 key); the
# private key is derived from it, so the deployment makes the key with no hand step and the key never
# leaves the secret and the function's memory. A new secret value is a new key (and a new key id).
_SEED_CONTEXT = b"rescue-nearby credits export ed25519 v1\x00"


class SecretsManagerSigner:
    def __init__(self, client: Any, secret_id: str) -> None:
        if not secret_id:
            raise ExportKeyMissing("CREDIT_EXPORT_SECRET_ID is not set: the export has no signing key")
        self._key, self._public_pem, self._key_id = _key_from_secret(client, secret_id)

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def public_key_pem(self) -> str:
        return self._public_pem

    def sign(self, data: bytes) -> bytes:
        return bytes(self._key.sign(data))


def signing_key(secret_value: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(_SEED_CONTEXT + secret_value.encode()).digest()
    )


@lru_cache(maxsize=4)
def _key_from_secret(client: Any, secret_id: str) -> tuple[Any, str, str]:
    from cryptography.hazmat.primitives import serialization

    key = signing_key(str(client.get_secret_value(SecretId=secret_id)["SecretString"]))
    public = key.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return key, pem, "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]
