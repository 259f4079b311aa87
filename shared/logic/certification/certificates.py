"""Certificates: numbering, validity, public verification with the name masked, revocation (which takes
the holder out of dispatch at once), the holder's document, and expiry reminders.

Validity: a certificate issued on day D is valid through the day before D's anniversary ``years`` later
(issued 2026-11-30, 3 years: valid through 2029-11-29), in the deployment's time zone; one issued on
29 February has 1 March as its anniversary in a common year. The responder record carries that last day
as ``certificate_expires_on``, so presence lapses at its end (shared.logic.responders).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.errors import Conflict, Forbidden, NotFound
from shared.identity import Caller
from shared.logic.certification.ports import (
    Certificate,
    CertificateStore,
    ReminderLog,
    ResponderCertificates,
)
from shared.logic.messages import Text
from shared.logic.ports import RESPONDER, GeoIndex, TextMessages
from shared.logic.teaching.records import TrainingRecords

NUMBER_PREFIX = "RN"
REMINDER_DAYS: tuple[int, ...] = (60, 30, 7)
# A run that was missed (a failed day, a late deploy) is caught up on the next ones: a certificate still
# gets its 30-day reminder at 29 or 28 days left, and never twice (the reminder log).
REMINDER_CATCH_UP_DAYS = 3
REMINDER_MARK_KEEP_DAYS = 400  # the reminder marks outlive the certificate's expiry, then lapse by TTL


def certificate_number(year: int, sequence: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{sequence:06d}"


def local_day(at: datetime, time_zone: str) -> date:
    return at.astimezone(ZoneInfo(time_zone)).date()


def anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return date(day.year + years, 3, 1)


def valid_until(issued_on: date, years: int) -> date:
    """The last valid day (inclusive): the day before the anniversary."""
    return anniversary(issued_on, years) - timedelta(days=1)


def status(certificate: Certificate, today: date) -> str:
    if certificate.revoked_at is not None:
        return "revoked"
    return "valid" if today <= certificate.valid_until else "expired"


def _is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK", "HANGUL", "HIRAGANA", "KATAKANA"))


def mask_name(name: str) -> str:
    """What a stranger may see of a holder's name: 张三明 → 张*明, 张三 → 张*, John Doe → J*** D**."""
    words = name.split()
    if not words:
        return ""
    if len(words) == 1 and all(_is_cjk(c) for c in words[0]):
        word = words[0]
        if len(word) <= 2:
            return word[0] + "*" * (len(word) - 1)
        return word[0] + "*" * (len(word) - 2) + word[-1]
    return " ".join(w[0] + "*" * (len(w) - 1) for w in words)


@dataclass(frozen=True)
class Verification:
    certificate: Certificate
    holder: str  # masked
    status: str


def verify(store: CertificateStore, certificate_no: str, today: date) -> Verification:
    certificate = store.get(certificate_no)
    if certificate is None:
        raise NotFound("no certificate with this number")
    return Verification(certificate, mask_name(certificate.holder_name), status(certificate, today))


def grant_responder(
    responders: ResponderCertificates, certificate: Certificate, consent: bool, now: datetime
) -> str | None:
    """With the holder's consent, the certificate makes them an alertable responder (created, or
    renewed with the new number and expiry). Returns "created", "renewed" or None (no consent)."""
    if not consent:
        return None
    created = responders.grant(
        certificate.holder_id,
        certificate.holder_name,
        certificate.holder_phone,
        certificate.certificate_no,
        certificate.valid_until,
        now,
    )
    return "created" if created else "renewed"


def revoke(
    store: CertificateStore,
    responders: ResponderCertificates,
    geo: GeoIndex,
    certificate_no: str,
    *,
    reason: str,
    by: str,
    now: datetime,
    time_zone: str,
) -> Certificate:
    """Revoke, and if the holder is a responder on this certificate, take them out of dispatch now: the
    record's certificate ends yesterday (so going on duty is refused) and then the presence item leaves
    the geo index (so no SOS finds them). A holder already renewed onto a newer certificate keeps it."""
    certificate = store.get(certificate_no)
    if certificate is None:
        raise NotFound("no certificate with this number")
    if not store.revoke(certificate_no, now, reason, by):
        raise Conflict("this certificate is already revoked", code="already_revoked")
    if responders.withdraw(
        certificate.holder_id, certificate_no, local_day(now, time_zone) - timedelta(days=1)
    ):
        geo.remove(RESPONDER, certificate.holder_id)
    revoked = store.get(certificate_no)
    assert revoked is not None
    return revoked


def document(
    store: CertificateStore, records: TrainingRecords, caller: Caller, certificate_no: str
) -> Certificate:
    """The certificate with the holder's full name, for the holder (once they have rated the course)
    and for admins (who may issue it again whatever the holder did). A certificate's number is public
    (anyone verifies it), so anyone else is refused (403), not told it is unknown."""
    certificate = store.get(certificate_no)
    if certificate is None:
        raise NotFound("no certificate with this number")
    holder = certificate.holder_id == caller.sub
    if not holder and "admin" not in caller.roles:
        raise Forbidden("only the certificate's holder and admins get its document")
    if certificate.revoked_at is not None:
        raise Conflict("this certificate has been revoked", code="certificate_revoked")
    if holder and not records.has_evaluated(certificate.course_id, certificate.holder_id):
        raise Conflict(
            "rate the course first: the certificate can be downloaded after the evaluation",
            code="evaluation_required",
        )
    return certificate


@dataclass(frozen=True)
class ReminderRun:
    sent: list[tuple[str, int]]  # (certificate_no, days before expiry)
    already_sent: int
    skipped: int  # revoked, or superseded by a newer certificate of the same holder


def reminder_message(certificate: Certificate, days_left: int) -> Text:
    return Text(
        "certificate_reminder",
        {
            "certificate": certificate.certificate_no,
            "valid_until": certificate.valid_until.isoformat(),
            "days": str(days_left),
        },
    )


def _superseded(store: CertificateStore, certificate: Certificate) -> bool:
    return any(
        other.certificate_no != certificate.certificate_no
        and other.revoked_at is None
        and other.valid_until > certificate.valid_until
        for other in store.of_holder(certificate.holder_id)
    )


def send_reminders(
    store: CertificateStore,
    log: ReminderLog,
    texts: TextMessages,
    *,
    today: date,
    now: datetime,
    time_zone: str,
    days: tuple[int, ...] = REMINDER_DAYS,
    catch_up_days: int = REMINDER_CATCH_UP_DAYS,
) -> ReminderRun:
    """Text each holder whose certificate ends in ``days`` days (or a few days fewer, catching up a missed
    run), exactly once per (certificate, threshold) however often this runs."""
    sent: list[tuple[str, int]] = []
    already = skipped = 0
    windows = sorted(days, reverse=True)
    for position, threshold in enumerate(windows):
        # Never reach into the next threshold's window: 60 catches up to 31 days at most, not 30.
        smaller = windows[position + 1] if position + 1 < len(windows) else 0
        first = today + timedelta(days=max(threshold - catch_up_days, smaller + 1))
        last = today + timedelta(days=threshold)
        for certificate in store.expiring_between(first, last):
            if certificate.revoked_at is not None or _superseded(store, certificate):
                skipped += 1
                continue
            keep_until = datetime.combine(
                certificate.valid_until + timedelta(days=REMINDER_MARK_KEEP_DAYS),
                time.min,
                tzinfo=ZoneInfo(time_zone),
            )
            if not log.claim(certificate.certificate_no, threshold, now, int(keep_until.timestamp())):
                already += 1
                continue
            days_left = (certificate.valid_until - today).days
            try:
                texts.send(certificate.holder_phone, reminder_message(certificate, days_left))
            except Exception:
                log.release(certificate.certificate_no, threshold)  # let the next run (or a retry) send it
                raise
            sent.append((certificate.certificate_no, threshold))
    return ReminderRun(sent=sent, already_sent=already, skipped=skipped)
