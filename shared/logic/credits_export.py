"""The credits ledger for the provincial public-credit platform (issue 15 item 2), and the annual
nominations for the 最美救护员 selection.

An export lists every credit of a period (``YYYY-MM`` or ``YYYY``: the credits' local months, deployment
time zone) that no export listed before, as two files with the same rows, JSON Lines and CSV, each with a
detached ed25519 signature over its exact bytes. A row: the person (certificate number, masked name), the
local date, the act (the credit's reason), the points, the incident.

Never a credit twice: each credit an export lists is first *claimed* for it, a conditional write on the
ledger item (``exported_in`` absent, or held by an export that died). Two exports racing over the same
credits (the same period twice, a month and its year) split them: each credit is won by one. An export
that fails half-way gives its claims back and says so (``failed``); one that died without a word (its
Lambda timed out) holds its claims only until its lease ends: the next export over those credits first
marks it ``abandoned`` (conditionally: a finished export is never abandoned, an abandoned one never
finishes) and then takes its claims over. So nothing is lost and nothing doubled.

Revocation: a credit is earned under the certificate the responder held at that moment (of their
certificates, the one issued last at or before it; a responder whose certificate was issued elsewhere is
listed with the number on their record). A credit at or after that certificate's revocation is not
exported (counted as ``excluded_revoked``, never claimed); those before it are.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.logic.certification.certificates import mask_name
from shared.logic.certification.ports import Certificate
from shared.logic.concurrency import each
from shared.logic.credits import period_months
from shared.logic.ids import new_id

# An export that has not finished within this long is presumed dead (an API function lives 10 s at most).
EXPORT_LEASE = timedelta(minutes=5)
COLUMNS = ("certificate_no", "name", "date", "act", "points", "incident")
JSONL, CSV = "credits.jsonl", "credits.csv"
FILE_PREFIX = "credit-exports/"  # infra/constants.py CREDIT_EXPORT_PREFIX: what the function may write
MEDIA_TYPES = {JSONL: "application/jsonl; charset=utf-8", CSV: "text/csv; charset=utf-8"}
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
BUILDING, READY, FAILED, ABANDONED = "building", "ready", "failed", "abandoned"
NOMINATION_OUTCOME = "rosc"
AED_ACT = "aed_attached"


# --- records ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerCredit:
    """One ledger item (shared/dal/models/rescue.py CreditModel) as the export reads it."""

    responder_id: str
    incident_id: str
    reason: str
    points: int
    at: datetime
    exported_in: str | None = None

    @property
    def credit_id(self) -> str:
        return f"{self.responder_id}#{self.incident_id}#{self.reason}"


@dataclass(frozen=True)
class Person:
    """Who a responder is on the ledger: their record's name and certificate, and every certificate the
    platform issued them (with its revocation)."""

    responder_id: str
    name: str
    certificate_no: str
    certificates: tuple[Certificate, ...] = ()


@dataclass(frozen=True)
class ExportFile:
    name: str  # credits.jsonl, credits.csv
    key: str  # where it is stored; its signature at key + ".sig"
    media_type: str
    bytes: int
    sha256: str
    signature: str  # base64 of the 64-byte ed25519 signature (the same bytes as the .sig file)


@dataclass
class Export:
    export_id: str
    period: str
    status: str  # building, ready, failed, abandoned
    created_at: datetime
    created_by: str
    lease_until: datetime
    listed: int = 0
    points: int = 0
    excluded_revoked: int = 0  # earned at or after the revocation of the certificate they were earned under
    already_exported: int = 0  # listed by an earlier export
    held_elsewhere: int = 0  # claimed by an export still running: it lists them
    key_id: str | None = None
    public_key: str | None = None  # PEM, SubjectPublicKeyInfo
    finished_at: datetime | None = None
    files: list[ExportFile] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    certificate_no: str
    name: str
    date: str  # YYYY-MM-DD, local
    act: str
    points: int
    incident: str

    def as_dict(self) -> dict[str, str | int]:
        return {c: getattr(self, c) for c in COLUMNS}


# --- ports ------------------------------------------------------------------------------------------


class ExportLedger(Protocol):
    def credits_in_month(self, month: str) -> list[LedgerCredit]:
        """Every credit of that local month, ``exported_in`` read consistently from the ledger item."""
        ...

    def claim(self, credit: LedgerCredit, export_id: str, take_from: str | None) -> bool:
        """Mark the credit listed by ``export_id``: if unmarked (``take_from`` None) or still marked by
        ``take_from`` (an export that died). False when another export holds it."""
        ...

    def release(self, credit: LedgerCredit, export_id: str) -> None:
        """Unmark it, if ``export_id`` still holds it."""
        ...


class ExportRecords(Protocol):
    def create(self, export: Export) -> None: ...
    def get(self, export_id: str) -> Export | None: ...
    def page(self, limit: int, next_token: str | None) -> tuple[list[Export], str | None]: ...
    def finish(self, export: Export) -> bool:
        """Store the finished export (status ready) if it is still building; False otherwise."""
        ...

    def end(self, export_id: str, status: str, now: datetime, only_after_lease: bool) -> bool:
        """building → ``status`` (failed, abandoned); with ``only_after_lease`` only once its lease ended."""
        ...


class People(Protocol):
    def people(self, responder_ids: Sequence[str]) -> dict[str, Person]: ...


class FileStore(Protocol):
    def put(self, key: str, body: bytes, media_type: str) -> None: ...


class Signer(Protocol):
    @property
    def key_id(self) -> str: ...
    @property
    def public_key_pem(self) -> str: ...
    def sign(self, data: bytes) -> bytes: ...


# --- rules ------------------------------------------------------------------------------------------


def period_bounds(period: str, time_zone: str) -> tuple[datetime, datetime]:
    """The period's first instant and the first instant after it, local (422 for a bad period)."""
    months = period_months(period)
    zone = ZoneInfo(time_zone)
    first = datetime.strptime(months[0], "%Y-%m").replace(tzinfo=zone)
    last = datetime.strptime(months[-1], "%Y-%m")
    end = (
        last.replace(year=last.year + 1, month=1) if last.month == 12 else last.replace(month=last.month + 1)
    )
    return first, end.replace(tzinfo=zone)


def certificate_at(person: Person, at: datetime) -> tuple[str, str, datetime | None]:
    """The certificate a credit at ``at`` was earned under: (number, holder's name, revoked at)."""
    issued = [c for c in person.certificates if c.issued_at <= at]
    if issued:
        held = max(issued, key=lambda c: c.issued_at)
        return held.certificate_no, held.holder_name, held.revoked_at
    known = next((c for c in person.certificates if c.certificate_no == person.certificate_no), None)
    if known is not None:
        return known.certificate_no, known.holder_name, known.revoked_at
    return person.certificate_no, person.name, None


def row_of(credit: LedgerCredit, person: Person, time_zone: str) -> Row | None:
    """The credit's row, or None when it was earned at or after its certificate's revocation."""
    number, name, revoked_at = certificate_at(person, credit.at)
    if revoked_at is not None and revoked_at <= credit.at:
        return None
    day = credit.at.astimezone(ZoneInfo(time_zone)).date().isoformat()
    return Row(number, mask_name(name), day, credit.reason, credit.points, credit.incident_id)


def ordered(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r.date, r.certificate_no, r.incident, r.act))


def render_jsonl(rows: Sequence[Row]) -> bytes:
    return "".join(
        json.dumps(r.as_dict(), ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows
    ).encode()


def render_csv(rows: Sequence[Row]) -> bytes:
    """RFC 4180: a header, CRLF line ends, fields quoted only when they need it; UTF-8, no BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([getattr(r, c) for c in COLUMNS] for r in rows)
    return out.getvalue().encode()


def file_key(export: Export, name: str) -> str:
    return f"{FILE_PREFIX}{export.period}/{export.export_id}/{name}"


# --- the export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportPorts:
    ledger: ExportLedger
    records: ExportRecords
    people: People
    files: FileStore
    signer: Signer


def _claimable(
    records: ExportRecords, credits: Sequence[LedgerCredit], export: Export, now: datetime
) -> tuple[list[tuple[LedgerCredit, str | None]], int, int]:
    """The credits this export may claim, each with the dead export it takes it from (None: unmarked);
    and how many are listed already, how many held by an export still running."""
    owners: dict[str, str] = {}  # an export that marked some → what it is now (its status, or "running")
    for credit in credits:
        owner = credit.exported_in
        if owner is None or owner in owners:
            continue
        found = records.get(owner)
        if found is None or found.status in (FAILED, ABANDONED):
            owners[owner] = ABANDONED
        elif found.status == READY:
            owners[owner] = READY
        elif records.end(owner, ABANDONED, now, only_after_lease=True):
            owners[owner] = ABANDONED  # it died (its lease ended): its claims are free now
        else:
            again = records.get(owner)
            owners[owner] = (
                READY
                if again is not None and again.status == READY
                else (ABANDONED if again is not None and again.status in (FAILED, ABANDONED) else "running")
            )
    claimable: list[tuple[LedgerCredit, str | None]] = []
    done = running = 0
    for credit in credits:
        owner = credit.exported_in
        state = owners.get(owner) if owner is not None else None
        if owner is None or state == ABANDONED:
            claimable.append((credit, owner))
        elif state == READY:
            done += 1
        else:
            running += 1
    return claimable, done, running


def run_export(ports: ExportPorts, period: str, by: str, now: datetime, time_zone: str) -> Export:
    """Build, sign and store one export of ``period``; the export as stored (status ready)."""
    start, _ = period_bounds(period, time_zone)
    if start > now:
        raise ValidationFailed("period: has not begun yet")
    export = Export(new_id(), period, BUILDING, now, by, now + EXPORT_LEASE)
    ports.records.create(export)
    credits = [c for month in period_months(period) for c in ports.ledger.credits_in_month(month)]
    claimable, export.already_exported, export.held_elsewhere = _claimable(
        ports.records, credits, export, now
    )
    people = ports.people.people(sorted({c.responder_id for c, _ in claimable}))
    wanted: list[tuple[LedgerCredit, str | None, Row]] = []
    for credit, take_from in claimable:
        person = people.get(credit.responder_id)
        row = row_of(credit, person, time_zone) if person is not None else None
        if row is None:
            export.excluded_revoked += 1  # (a credit of nobody known has no certificate to list it under)
            continue
        wanted.append((credit, take_from, row))
    won: list[tuple[LedgerCredit, Row]] = []
    try:
        results = each(lambda w: ports.ledger.claim(w[0], export.export_id, w[1]), wanted)
        for (credit, _, row), result in zip(wanted, results, strict=True):
            if isinstance(result, Exception):
                raise result
            if result:
                won.append((credit, row))
            else:
                export.held_elsewhere += 1  # another export won it meanwhile: it lists it
        rows = ordered(row for _, row in won)
        export.listed, export.points = len(rows), sum(r.points for r in rows)
        export.key_id, export.public_key = ports.signer.key_id, ports.signer.public_key_pem
        export.files = [
            _store_signed(ports, export, name, render(rows))
            for name, render in ((JSONL, render_jsonl), (CSV, render_csv))
        ]
        export.status, export.finished_at = READY, now
        if not ports.records.finish(export):
            raise Conflict(
                "the export ran past its lease and was taken over; run it again", code="export_abandoned"
            )
    except Exception:
        _give_back(ports, export, [c for c, _ in won], now)
        raise
    return export


def _store_signed(ports: ExportPorts, export: Export, name: str, body: bytes) -> ExportFile:
    signature = ports.signer.sign(body)
    key = file_key(export, name)
    ports.files.put(key, body, MEDIA_TYPES[name])
    ports.files.put(key + ".sig", signature, "application/octet-stream")
    return ExportFile(
        name,
        key,
        MEDIA_TYPES[name],
        len(body),
        hashlib.sha256(body).hexdigest(),
        base64.b64encode(signature).decode(),
    )


def _give_back(ports: ExportPorts, export: Export, claimed: Sequence[LedgerCredit], now: datetime) -> None:
    """A failed export: say so first (so nothing finishes it), then unmark what it claimed. Whatever is
    left marked (this too failed) is free to the next export: its status says it is dead."""
    ports.records.end(export.export_id, FAILED, now, only_after_lease=False)
    each(lambda c: ports.ledger.release(c, export.export_id), claimed)


def get_export(records: ExportRecords, export_id: str) -> Export:
    found = records.get(export_id)
    if found is None:
        raise NotFound("no such export")
    return found


def list_exports(
    records: ExportRecords, limit: int, next_token: str | None
) -> tuple[list[Export], str | None]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit: 1 to {MAX_LIMIT}")
    return records.page(limit, next_token)


# --- nominations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nominee:
    rank: int
    responder_id: str
    certificate_no: str
    name: str  # masked
    rescues: int  # incidents with an AED they attached, or closed with ROSC
    aed_rescues: int
    rosc_rescues: int
    points: int  # all their points of the year


def year_months(year: str) -> list[str]:
    if len(year) != 4:
        raise ValidationFailed("year: YYYY")
    try:
        return period_months(year)
    except ValidationFailed:
        raise ValidationFailed("year: YYYY, 2000 to 2100") from None


def nominations(
    credits: Iterable[LedgerCredit],
    outcomes: Callable[[Sequence[str]], dict[str, str | None]],
    people: People,
    limit: int,
    time_zone: str,
) -> list[Nominee]:
    """Rescues (distinct incidents) in which the responder attached an AED (their ``aed_attached``
    credit) or that closed with ROSC, from the year's ledger. Ranked by rescues, then ROSC rescues, then
    AED rescues, then points (more first); equal on all four share a rank; the certificate number orders
    those. Someone with no such rescue is not nominated."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit: 1 to {MAX_LIMIT}")
    everyone = list(credits)
    found = people.people(sorted({c.responder_id for c in everyone}))
    # As in the export: nothing earned at or after the revocation of the certificate it was earned under.
    listed = [c for c in everyone if c.responder_id in found and row_of(c, found[c.responder_id], time_zone)]
    outcome = outcomes(sorted({c.incident_id for c in listed}))
    aed: dict[str, set[str]] = {}
    rosc: dict[str, set[str]] = {}
    points: dict[str, int] = {}
    for c in listed:
        points[c.responder_id] = points.get(c.responder_id, 0) + c.points
        if c.reason == AED_ACT:
            aed.setdefault(c.responder_id, set()).add(c.incident_id)
        if outcome.get(c.incident_id) == NOMINATION_OUTCOME:
            rosc.setdefault(c.responder_id, set()).add(c.incident_id)
    ids = sorted(set(aed) | set(rosc))
    scored: list[tuple[tuple[int, int, int, int], Person]] = []
    for r in ids:
        with_aed, with_rosc = aed.get(r, set()), rosc.get(r, set())
        score = (len(with_aed | with_rosc), len(with_rosc), len(with_aed), points[r])
        scored.append((score, found[r]))
    scored.sort(key=lambda x: (tuple(-v for v in x[0]), x[1].certificate_no, x[1].responder_id))
    out: list[Nominee] = []
    previous: tuple[int, int, int, int] | None = None
    for i, (score, person) in enumerate(scored[:limit]):
        rank = out[-1].rank if score == previous else i + 1
        rescues, rosc_rescues, aed_rescues, total = score
        out.append(
            Nominee(
                rank,
                person.responder_id,
                person.certificate_no,
                mask_name(person.name),
                rescues,
                aed_rescues,
                rosc_rescues,
                total,
            )
        )
        previous = score
    return out
