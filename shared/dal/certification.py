"""Examination and certification records in DynamoDB, behind the ports of
shared/logic/training/certification_ports.py, and the responder pool as certificates change it."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.config import settings
from shared.dal.certification_models import (
    CertificateModel,
    CertificateNumberModel,
    CertificateReminderModel,
    ExaminerModel,
    ExamModel,
    ExamScoreModel,
)
from shared.dal.conditions import condition_failed
from shared.dal.models import ResponderModel
from shared.logic.training.certification_ports import Certificate, Exam, Examiner, Score


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


def _examiner(m: ExaminerModel) -> Examiner:
    return Examiner(
        examiner_id=m.examiner_id,
        name=m.name,
        added_at=m.added_at,
        added_by=m.added_by,
        last_assigned_at=m.last_assigned_at,
        assignments=int(m.assignments or 0),
    )


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


def _exam(m: ExamModel) -> Exam:
    return Exam(
        exam_id=m.exam_id,
        course_id=m.course_id,
        site=m.site,
        starts_at=m.starts_at,
        examiner_id=m.examiner_id,
        candidate_ids=[str(c) for c in m.candidate_ids or []],
        created_by=m.created_by,
        created_at=m.created_at,
    )


def _score(m: ExamScoreModel) -> Score:
    return Score(
        exam_id=m.exam_id,
        candidate_id=m.candidate_id,
        course_id=m.course_id,
        examiner_id=m.examiner_id,
        skills={k: int(v) for k, v in json.loads(m.skills).items()},
        passed=bool(m.passed),
        failed_skills=list(json.loads(m.failed_skills)),
        scored_at=m.scored_at,
        certificate_no=m.certificate_no,
    )


def _certificate_item(c: Certificate) -> CertificateModel:
    return CertificateModel(
        certificate_no=c.certificate_no,
        holder_id=c.holder_id,
        holder_name=c.holder_name,
        holder_phone=c.holder_phone,
        course_id=c.course_id,
        course_title=c.course_title,
        exam_id=c.exam_id,
        issued_on=c.issued_on.isoformat(),
        valid_until=c.valid_until.isoformat(),
        expiry_month=c.valid_until.strftime("%Y-%m"),
        issued_at=c.issued_at,
        revoked_at=c.revoked_at,
        revoked_reason=c.revoked_reason,
        revoked_by=c.revoked_by,
    )


def _certificate(m: CertificateModel) -> Certificate:
    return Certificate(
        certificate_no=m.certificate_no,
        holder_id=m.holder_id,
        holder_name=m.holder_name,
        holder_phone=m.holder_phone,
        course_id=m.course_id,
        course_title=m.course_title,
        exam_id=m.exam_id,
        issued_on=date.fromisoformat(m.issued_on),
        valid_until=date.fromisoformat(m.valid_until),
        issued_at=m.issued_at,
        revoked_at=m.revoked_at,
        revoked_reason=m.revoked_reason,
        revoked_by=m.revoked_by,
    )


class DynamoExams:
    def __init__(self) -> None:
        self._connection = Connection(region=settings().region)

    def create(self, exam: Exam) -> None:
        ExamModel(
            exam_id=exam.exam_id,
            course_id=exam.course_id,
            site=exam.site,
            starts_at=exam.starts_at,
            examiner_id=exam.examiner_id,
            candidate_ids=list(exam.candidate_ids),
            created_by=exam.created_by,
            created_at=exam.created_at,
        ).save(condition=ExamModel.exam_id.does_not_exist())

    def get(self, exam_id: str) -> Exam | None:
        m = _get(ExamModel, exam_id)
        return None if m is None else _exam(m)

    def score(self, exam_id: str, candidate_id: str) -> Score | None:
        m = _get(ExamScoreModel, exam_id, candidate_id)
        return None if m is None else _score(m)

    def scores(self, exam_id: str) -> list[Score]:
        return [_score(m) for m in ExamScoreModel.query(exam_id, consistent_read=True)]

    def record(self, score: Score, certificate: Certificate | None) -> bool:
        """The score and its certificate together or neither: a pass never lacks its certificate."""
        item = ExamScoreModel(
            exam_id=score.exam_id,
            candidate_id=score.candidate_id,
            course_id=score.course_id,
            examiner_id=score.examiner_id,
            skills=json.dumps(score.skills, sort_keys=True),
            passed=score.passed,
            failed_skills=json.dumps(score.failed_skills),
            scored_at=score.scored_at,
            certificate_no=score.certificate_no,
        )
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
            _score(m)
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
        return None if m is None else _certificate(m)

    def of_holder(self, holder_id: str) -> list[Certificate]:
        return [_certificate(m) for m in CertificateModel.by_holder.query(holder_id)]

    def expiring_between(self, first: date, last: date) -> list[Certificate]:
        found: list[Certificate] = []
        for month in _months(first, last):
            query = CertificateModel.by_expiry.query(
                month,
                range_key_condition=CertificateModel.valid_until.between(first.isoformat(), last.isoformat()),
            )
            found.extend(_certificate(m) for m in query)
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
    """Writes the certificate fields of shared.dal.models.ResponderModel (the responder_id is the
    person's sub); presence and credits stay the responders function's business."""

    def grant(
        self, responder_id: str, name: str, phone: str, certificate_no: str, expires_on: date, now: datetime
    ) -> bool:
        try:
            ResponderModel(
                responder_id=responder_id,
                name=name,
                phone=phone,
                certificate_no=certificate_no,
                certificate_expires_on=expires_on.isoformat(),
                created_at=now,
                credits_balance=0,
                available=False,
            ).save(condition=ResponderModel.responder_id.does_not_exist())
            return True
        except PutError as error:
            if not condition_failed(error):
                raise
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
