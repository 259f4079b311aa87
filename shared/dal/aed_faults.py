"""AED fault reports in DynamoDB, and their photos in S3 (presigned: the bytes never pass a Lambda)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from shared.dal.conditions import condition_failed
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.aed_faults import AedReportModel
from shared.errors import ValidationFailed
from shared.logic.aed_faults import FaultReport, PhotoUpload

UPLOAD_WINDOW = timedelta(minutes=15)


stored(FaultReport, AedReportModel)


class DynamoReports:
    def add(self, report: FaultReport) -> None:
        to_model(AedReportModel, report).save(condition=AedReportModel.report_id.does_not_exist())

    def get(self, aed_id: str, report_id: str) -> FaultReport | None:
        try:
            return from_model(FaultReport, AedReportModel.get(aed_id, report_id, consistent_read=True))
        except DoesNotExist:
            return None

    def list(
        self, aed_id: str, state: str | None, limit: int, next_token: str | None
    ) -> tuple[list[FaultReport], str | None]:
        start: dict[str, Any] | None = None
        if next_token:
            try:
                start = json.loads(base64.urlsafe_b64decode(next_token.encode()))
                assert isinstance(start, dict) and start.get("aed_id", {}).get("S") == aed_id
            except Exception as error:
                raise ValidationFailed("next_token: not a token this API issued") from error
        results = AedReportModel.query(
            aed_id,
            filter_condition=(AedReportModel.state == state) if state else None,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
            consistent_read=True,
        )
        items = [from_model(FaultReport, m) for m in results]
        last = results.last_evaluated_key
        token = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
        return items, token

    def resolve(
        self, aed_id: str, report_id: str, state: str, by: str, at: datetime, note: str | None
    ) -> bool:
        actions: list[Any] = [
            AedReportModel.state.set(state),
            AedReportModel.resolved_at.set(at),
            AedReportModel.resolved_by.set(by),
        ]
        if note:
            actions.append(AedReportModel.resolution_note.set(note))
        try:
            AedReportModel(aed_id=aed_id, report_id=report_id).update(
                actions=actions, condition=AedReportModel.state == "open"
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True


class S3Photos:
    """Presigned POST (size and type enforced by S3's policy check) for uploads, presigned GET to view."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    def upload_slot(self, key: str, content_type: str, max_bytes: int) -> PhotoUpload:
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=int(UPLOAD_WINDOW.total_seconds()),
        )
        return PhotoUpload(
            url=post["url"],
            fields={k: str(v) for k, v in post["fields"].items()},
            expires_at=datetime.now(UTC) + UPLOAD_WINDOW,
            max_bytes=max_bytes,
        )

    def view_url(self, key: str) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=900
        )
        return url
