"""Exams kept apart from teaching: the examiner pool, sittings, scores (a pass issues the certificate and,
with consent, makes the holder a responder), and the training quality report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shared import wiring
from shared.api.certification import (
    CandidateOut,
    ExaminerBody,
    ExaminerOut,
    Examiners,
    ExamOut,
    NewExamBody,
    QualityReport,
    QualityRowOut,
    ScoreBody,
    ScoreOut,
)
from shared.api.http import CREATED_RESPONSES, ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.api.params import LimitQ, TokenQ
from shared.config import settings
from shared.errors import ValidationFailed
from shared.logic.certification import exams as logic
from shared.logic.certification.ports import Examiner
from shared.logic.certification.quality import quality_report

ExaminerId = Annotated[str, Path(min_length=1, max_length=128, description="the examiner's sub")]
ExamId = Annotated[str, Path(min_length=1, max_length=64)]

# A report spans at most about a year of sessions: the supervisor's annual figures.
MAX_REPORT_DAYS = 366

app = create_app()
config = settings()
rules = logic.CertificationRules(
    pass_marks=dict(config.pass_marks), valid_years=config.certificate_valid_years, time_zone=config.time_zone
)


def _examiner(e: Examiner) -> ExaminerOut:
    return ExaminerOut.model_validate(e, from_attributes=True)


@app.put("/v1/examiners/<examiner_id>", responses=ERROR_RESPONSES)
def put_examiner(examiner_id: ExaminerId, body: ExaminerBody) -> ExaminerOut:
    return _examiner(
        logic.put_examiner(
            wiring.examiner_pool(), current_caller(app), examiner_id, body.name, datetime.now(UTC)
        )
    )


@app.delete("/v1/examiners/<examiner_id>", responses={204: {"description": "Removed"}, **ERROR_RESPONSES})
def delete_examiner(examiner_id: ExaminerId) -> Response[None]:
    logic.remove_examiner(wiring.examiner_pool(), examiner_id)
    return Response(204, None, None)


@app.get("/v1/examiners", responses=ERROR_RESPONSES)
def list_examiners(limit: LimitQ = 20, next_token: TokenQ = None) -> Examiners:
    items, token = logic.list_examiners(wiring.examiner_pool(), limit, next_token)
    return Examiners(items=[_examiner(e) for e in items], next_token=token)


def _exam_out(view: logic.ExamView) -> ExamOut:
    exam = view.exam
    candidates = []
    for candidate_id in exam.candidate_ids:
        score = view.scores.get(candidate_id)
        candidates.append(
            CandidateOut(
                candidate_id=candidate_id,
                scored=score is not None,
                passed=score.passed if score else None,
                failed_skills=score.failed_skills if score else None,
                certificate_no=score.certificate_no if score else None,
            )
        )
    return ExamOut(
        exam_id=exam.exam_id,
        course_id=exam.course_id,
        site=exam.site,
        starts_at=exam.starts_at,
        examiner_id=exam.examiner_id,
        candidates=candidates,
        created_by=exam.created_by,
        created_at=exam.created_at,
    )


@app.post("/v1/exams", responses=CREATED_RESPONSES)
def create_exam(body: NewExamBody) -> Response[ExamOut]:
    new = logic.NewExam(
        course_id=body.course_id,
        site=body.site,
        starts_at=body.starts_at.astimezone(UTC),
        candidate_ids=list(body.candidate_ids),
        examiner_id=body.examiner_id,
    )
    exam = logic.create_exam(
        wiring.training_records(),
        wiring.exams(),
        wiring.examiner_pool(),
        current_caller(app),
        new,
        datetime.now(UTC),
    )
    return Response(201, content_types.APPLICATION_JSON, _exam_out(logic.ExamView(exam, {})))


@app.get("/v1/exams/<exam_id>", responses=ERROR_RESPONSES)
def get_exam(exam_id: ExamId) -> ExamOut:
    return _exam_out(logic.get_exam(wiring.exams(), current_caller(app), exam_id))


@app.post("/v1/exams/<exam_id>/scores", responses=CREATED_RESPONSES)
def score(exam_id: ExamId, body: ScoreBody) -> Response[ScoreOut]:
    outcome = logic.score_candidate(
        wiring.training_records(),
        wiring.exams(),
        wiring.certificates(),
        wiring.responder_certificates(),
        current_caller(app),
        exam_id,
        body.candidate_id,
        body.skills.model_dump(),
        rules,
        datetime.now(UTC),
    )
    answer = ScoreOut(
        exam_id=exam_id,
        candidate_id=body.candidate_id,
        passed=outcome.score.passed,
        failed_skills=outcome.score.failed_skills,
        certificate_no=outcome.certificate.certificate_no if outcome.certificate else None,
        valid_until=outcome.certificate.valid_until if outcome.certificate else None,
        responder=outcome.responder,  # type: ignore[arg-type]
    )
    return Response(201, content_types.APPLICATION_JSON, answer)


@app.get("/v1/training/quality", responses=ERROR_RESPONSES)
def quality(
    by: Annotated[str, Query(pattern="^(instructor|site)$", description="instructor or site")],
    from_: Annotated[
        date | None, Query(alias="from", description="first day, YYYY-MM-DD (default: 365 days before to)")
    ] = None,
    to: Annotated[date | None, Query(description="last day, inclusive (default: today)")] = None,
) -> QualityReport:
    zone = ZoneInfo(config.time_zone)
    last = to or datetime.now(zone).date()
    first = from_ or last - timedelta(days=MAX_REPORT_DAYS - 1)
    if first > last:
        raise ValidationFailed("from: must not be after to")
    if (last - first).days + 1 > MAX_REPORT_DAYS:
        raise ValidationFailed(f"from, to: at most {MAX_REPORT_DAYS} days")
    rows = quality_report(
        wiring.training_records(),
        wiring.exams(),
        by=by,
        start=datetime.combine(first, time.min, tzinfo=zone),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )
    return QualityReport.model_validate(
        {
            "by": by,
            "from": first,
            "to": last,
            "rows": [QualityRowOut.model_validate(r, from_attributes=True) for r in rows],
        }
    )


lambda_handler = entry_point(app)
