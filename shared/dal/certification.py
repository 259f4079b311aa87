"""Examination and certification records in DynamoDB, behind the ports of
shared/logic/certification/ports.py, and the responder pool as certificates change it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.config import settings
from shared.dal.conditions import condition_failed
from shared.dal.mapping import from_model, stored, to_model
from shared.dal.models.certification import (
    CertificateModel,
    CertificateNumberModel,
    CertificateReminderModel,
    ExaminerModel,
    ExamModel,
    ExamScoreModel,
)
from shared.dal.models.responders import ResponderModel
from shared.dal.responders import DynamoResponders
from shared.errors import Conflict
from shared.logic.certification.ports import Certificate, Exam, Examiner, Score
from shared.logic.ports import Responder


def _get(model: type[Model], hash_key: str, range_key: str | None = None) -> Any:
    try:
        return model.get(hash_key, range_key, consistent_read=True)
    except DoesNotExist:
        return None


def _months(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# --- the examiner pool --------------------------------------------------------------------------


stored(Examiner, ExaminerModel)


def _examiner(m: ExaminerModel) -> Examiner:
    return from_model(Examiner, m)


class DynamoExaminerPool:
    def put(self, examiner_id: str, name: str, by: str, now: datetime) -> Examiner:
        item = ExaminerModel(examiner_id=examiner_id)
        item.update(
            actions=[
                ExaminerModel.name.set(name),
                # First added keeps its date and adder; the assignment history survives a rename.
                ExaminerModel.added_at.set(ExaminerModel.added_at | now),
                ExaminerModel.added_by.set(ExaminerModel.added_by | by),
                ExaminerModel.assignments.set(ExaminerModel.assignments | 0),
            ]
        )
        return _examiner(item)

    def remove(self, examiner_id: str) -> bool:
        try:
            ExaminerModel(examiner_id=examiner_id).delete(condition=ExaminerModel.examiner_id.exists())
        except DeleteError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def get(self, examiner_id: str) -> Examiner | None:
        m = _get(ExaminerModel, examiner_id)
        return None if m is None else _examiner(m)

    def all(self) -> list[Examiner]:
        # The pool is tens of people, a few hundred at most: a Scan reads it whole.
        return [_examiner(m) for m in ExaminerModel.scan(consistent_read=True)]

    def mark_assigned(self, examiner_id: str, at: datetime) -> bool:
        try:
            ExaminerModel(examiner_id=examiner_id).update(
                actions=[ExaminerModel.last_assigned_at.set(at), ExaminerModel.assignments.add(1)],
                condition=ExaminerModel.examiner_id.exists(),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True


# --- sittings and scores ------------------------------------------------------------------------


stored(Exam, ExamModel)
stored(Score, ExamScoreModel)
stored(
    Certificate,
    CertificateModel,
    storage_only={"expiry_month": "the by-expiry index's partition, derived: the month of valid_until"},
)


def _certificate_item(c: Certificate) -> CertificateModel:
    return to_model(CertificateModel, c, expiry_month=c.valid_until.strftime("%Y-%m"))


class DynamoExams:
    def __init__(self) -> None:
        self._connection = Connection(region=settings().region)

    def create(self, exam: Exam) -> None:
        to_model(ExamModel, exam).save(condition=ExamModel.exam_id.does_not_exist())

    def get(self, exam_id: str) -> Exam | None:
        m = _get(ExamModel, exam_id)
        return None if m is None else from_model(Exam, m)

    def score(self, exam_id: str, candidate_id: str) -> Score | None:
        m = _get(ExamScoreModel, exam_id, candidate_id)
        return None if m is None else from_model(Score, m)

    def scores(self, exam_id: str) -> list[Score]:
        return [from_model(Score, m) for m in ExamScoreModel.query(exam_id, consistent_read=True)]

    def record(self, score: Score, certificate: Certificate | None) -> bool:
        """The score and its certificate together or neither: a pass never lacks its certificate."""
        item = to_model(ExamScoreModel, score)
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(item, condition=ExamScoreModel.candidate_id.does_not_exist())
                if certificate is not None:
                    tx.save(
                        _certificate_item(certificate),
                        condition=CertificateModel.certificate_no.does_not_exist(),
                    )
        except TransactWriteError as error:
            reasons = [r.code if r is not None else None for r in (error.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def scores_of_course(self, course_id: str, since: datetime) -> list[Score]:
        return [
            from_model(Score, m)
            for m in ExamScoreModel.by_course.query(
                course_id, range_key_condition=ExamScoreModel.scored_at >= since
            )
        ]


# --- certificates -------------------------------------------------------------------------------


class DynamoCertificates:
    def next_number(self, year: int) -> int:
        counter = CertificateNumberModel(counter=f"certificates-{year}")
        counter.update(actions=[CertificateNumberModel.value.add(1)])
        return int(counter.value)

    def get(self, certificate_no: str) -> Certificate | None:
        m = _get(CertificateModel, certificate_no)
        return None if m is None else from_model(Certificate, m)

    def of_holder(self, holder_id: str) -> list[Certificate]:
        return [from_model(Certificate, m) for m in CertificateModel.by_holder.query(holder_id)]

    def expiring_between(self, first: date, last: date) -> list[Certificate]:
        found: list[Certificate] = []
        for month in _months(first, last):
            query = CertificateModel.by_expiry.query(
                month,
                range_key_condition=CertificateModel.valid_until.between(first.isoformat(), last.isoformat()),
            )
            found.extend(from_model(Certificate, m) for m in query)
        return found

    def revoke(self, certificate_no: str, at: datetime, reason: str, by: str) -> bool:
        try:
            CertificateModel(certificate_no=certificate_no).update(
                actions=[
                    CertificateModel.revoked_at.set(at),
                    CertificateModel.revoked_reason.set(reason),
                    CertificateModel.revoked_by.set(by),
                ],
                condition=CertificateModel.certificate_no.exists()
                & CertificateModel.revoked_at.does_not_exist(),
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True


class DynamoReminderLog:
    def claim(self, certificate_no: str, days_before: int, at: datetime, expires_at: int) -> bool:
        try:
            CertificateReminderModel(
                reminder_key=f"{certificate_no}#{days_before}",
                certificate_no=certificate_no,
                days_before=days_before,
                sent_at=at,
                expires_at=expires_at,
            ).save(condition=CertificateReminderModel.reminder_key.does_not_exist())
        except PutError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def release(self, certificate_no: str, days_before: int) -> None:
        CertificateReminderModel(reminder_key=f"{certificate_no}#{days_before}").delete()


# --- the responder pool -------------------------------------------------------------------------


class DynamoResponderCertificates:
    """Writes the certificate fields of shared.dal.models.responders.ResponderModel (the responder_id is the
    person's sub); presence and credits stay the responders function's business."""

    def __init__(self) -> None:
        self._responders = DynamoResponders()

    def grant(
        self, responder_id: str, name: str, phone: str, certificate_no: str, expires_on: date, now: datetime
    ) -> bool:
        try:
            self._responders.create(Responder(responder_id, name, phone, certificate_no, expires_on, now))
            return True
        except Conflict:
            pass  # a responder already: renew below
        try:
            # Renew, but never onto a certificate that ends sooner than the one they hold.
            ResponderModel(responder_id=responder_id).update(
                actions=[
                    ResponderModel.certificate_no.set(certificate_no),
                    ResponderModel.certificate_expires_on.set(expires_on.isoformat()),
                    ResponderModel.name.set(name),
                    ResponderModel.phone.set(phone),
                ],
                condition=ResponderModel.responder_id.exists()
                & (ResponderModel.certificate_expires_on <= expires_on.isoformat()),
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise
        return False

    def withdraw(self, responder_id: str, certificate_no: str, last_valid_day: date) -> bool:
        try:
            ResponderModel(responder_id=responder_id).update(
                actions=[
                    ResponderModel.certificate_expires_on.set(last_valid_day.isoformat()),
                    ResponderModel.available.set(False),
                    ResponderModel.presence_expires_at.remove(),
                ],
                condition=ResponderModel.certificate_no == certificate_no,
            )
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True
