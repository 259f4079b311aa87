"""Certificates: public verification (name masked), revocation (out of dispatch at once), and the
holder's document with a QR code of the verification address, once they rated the course."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

import segno
from aws_lambda_powertools.event_handler.openapi.params import Path

from shared import wiring
from shared.api.certification import (
    CertificateDocument,
    CertificateVerification,
    RevokeBody,
    RevokedOut,
)
from shared.api.http import ERROR_RESPONSES, create_app, current_caller, entry_point
from shared.config import settings
from shared.logic.certification import certificates as logic
from shared.logic.certification.ports import Certificate

CertificateNo = Annotated[str, Path(min_length=1, max_length=64, description="e.g. RN-2026-000123")]

app = create_app()
config = settings()


def _verification(certificate: Certificate, holder: str, status: str) -> CertificateVerification:
    return CertificateVerification(
        certificate_no=certificate.certificate_no,
        holder=holder,
        course=certificate.course_title,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
        status=status,  # type: ignore[arg-type]
    )


def _today() -> datetime:
    return datetime.now(UTC)


@app.get("/v1/certificates/<certificate_no>", responses=ERROR_RESPONSES)
def verify(certificate_no: CertificateNo) -> CertificateVerification:
    found = logic.verify(wiring.certificates(), certificate_no, logic.local_day(_today(), config.time_zone))
    return _verification(found.certificate, found.holder, found.status)


@app.post("/v1/certificates/<certificate_no>/revoke", responses=ERROR_RESPONSES)
def revoke(certificate_no: CertificateNo, body: RevokeBody) -> RevokedOut:
    caller = current_caller(app)
    assert caller.sub is not None
    now = _today()
    revoked = logic.revoke(
        wiring.certificates(),
        wiring.responder_certificates(),
        wiring.geo_index(),
        certificate_no,
        reason=body.reason,
        by=caller.sub,
        now=now,
        time_zone=config.time_zone,
    )
    assert revoked.revoked_at is not None
    shown = _verification(revoked, logic.mask_name(revoked.holder_name), "revoked")
    return RevokedOut(**shown.model_dump(), revoked_at=revoked.revoked_at, reason=body.reason)


def verify_url(certificate_no: str) -> str:
    """The address anyone can check the certificate at: the configured verification page, or else this
    API's own verification route at the host (and stage) the request came through."""
    number = quote(certificate_no, safe="")
    if config.certificate_verify_url:
        return config.certificate_verify_url.format(certificate_no=number)
    event = app.current_event
    route = f"/v1/certificates/{number}"
    context = event.request_context
    domain = context.domain_name
    if domain:  # API Gateway: the stage or base path precedes the resource path the client called
        called = context.path or ""
        prefix = called[: -len(event.path)] if event.path and called.endswith(event.path) else ""
        return f"https://{domain}{prefix}{route}"
    host = event.headers.get("Host") or event.headers.get("host")
    if host:  # the local gateway (no stage in its paths)
        scheme = event.headers.get("X-Forwarded-Proto") or "http"
        return f"{scheme}://{host}{route}"
    return route


def qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, xmldecl=False, title=url)
    return out.getvalue().decode("utf-8")


@app.get("/v1/certificates/<certificate_no>/document", responses=ERROR_RESPONSES)
def document(certificate_no: CertificateNo) -> CertificateDocument:
    certificate = logic.document(
        wiring.certificates(), wiring.training_records(), current_caller(app), certificate_no
    )
    url = verify_url(certificate.certificate_no)
    return CertificateDocument(
        certificate_no=certificate.certificate_no,
        holder=certificate.holder_name,
        course_id=certificate.course_id,
        course=certificate.course_title,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
        status=logic.status(certificate, logic.local_day(_today(), config.time_zone)),  # type: ignore[arg-type]
        verify_url=url,
        qr_svg=qr_svg(url),
    )


lambda_handler = entry_point(app)
