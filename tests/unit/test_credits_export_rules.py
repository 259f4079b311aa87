"""The credits export's rules on in-memory fakes: the rows (masked names, local dates, acts), the two
renderings, the signature over the exact bytes, revocation, and above all never a credit twice: adjacent
and overlapping periods, a racing pair, an export that fails half-way and one that dies. Also the annual
nominations' ranking."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import subprocess
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from shared.dal.credits_export import SecretsManagerSigner
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.logic import credits_export as ce
from shared.logic.certification.ports import Certificate
from shared.logic.credits_export import (
    ABANDONED,
    BUILDING,
    FAILED,
    READY,
    Export,
    ExportPorts,
    LedgerCredit,
    Person,
)

TZ = "Asia/Shanghai"
NOW = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)  # every period below has ended


# --- fakes ------------------------------------------------------------------------------------------


class Ledger:
    """The credits table: a claim is atomic (a lock stands for DynamoDB's conditional write)."""

    def __init__(self, credits: list[LedgerCredit], barrier: threading.Barrier | None = None) -> None:
        self.items = {c.credit_id: c for c in credits}
        self.lock = threading.Lock()
        self.barrier = barrier  # both exports of a racing pair read before either claims

    def credits_in_month(self, month: str) -> list[LedgerCredit]:
        if self.barrier is not None:
            self.barrier.wait(timeout=10)
        with self.lock:
            return [
                c for c in self.items.values() if c.at.astimezone(ce.ZoneInfo(TZ)).strftime("%Y-%m") == month
            ]

    def claim(self, credit: LedgerCredit, export_id: str, take_from: str | None) -> bool:
        with self.lock:
            current = self.items[credit.credit_id]
            if current.exported_in != take_from:
                return False
            self.items[credit.credit_id] = replace(current, exported_in=export_id)
            return True

    def release(self, credit: LedgerCredit, export_id: str) -> None:
        with self.lock:
            current = self.items[credit.credit_id]
            if current.exported_in == export_id:
                self.items[credit.credit_id] = replace(current, exported_in=None)


class Records:
    def __init__(self) -> None:
        self.items: dict[str, Export] = {}
        self.lock = threading.Lock()

    def create(self, export: Export) -> None:
        with self.lock:
            assert export.export_id not in self.items
            self.items[export.export_id] = replace(export)

    def get(self, export_id: str) -> Export | None:
        with self.lock:
            found = self.items.get(export_id)
            return replace(found) if found else None

    def page(self, limit: int, next_token: str | None) -> tuple[list[Export], str | None]:
        return sorted(self.items.values(), key=lambda e: e.export_id, reverse=True)[:limit], None

    def finish(self, export: Export) -> bool:
        with self.lock:
            if self.items[export.export_id].status != BUILDING:
                return False
            self.items[export.export_id] = replace(export)
            return True

    def end(self, export_id: str, status: str, now: datetime, only_after_lease: bool) -> bool:
        with self.lock:
            found = self.items.get(export_id)
            if found is None or found.status != BUILDING or (only_after_lease and found.lease_until >= now):
                return False
            found.status = status
            return True


class People:
    def __init__(self, people: dict[str, Person]) -> None:
        self.known = people

    def people(self, responder_ids):
        return {r: self.known[r] for r in responder_ids if r in self.known}


class Files:
    def __init__(self, fail_on: int | None = None) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.fail_on, self.calls = fail_on, 0

    def put(self, key: str, body: bytes, media_type: str) -> None:
        self.calls += 1
        if self.fail_on == self.calls:
            raise RuntimeError("S3 refused the write")
        self.objects[key] = (body, media_type)


class FakeSecrets:
    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        return {"SecretString": f"a generated secret for {SecretId}"}


SIGNER = SecretsManagerSigner(FakeSecrets(), "unit-test-signing")


def certificate(number: str, holder: str, name: str, issued: datetime, revoked: datetime | None = None):
    return Certificate(
        number, holder, name, "+8613800000000", "c1", "急救员", "e1", issued.date(),
        date(2029, 1, 1), issued, revoked_at=revoked,
    )  # fmt: skip


def at(month: int, day: int, hour: int = 4, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def credit(responder: str, incident: str, reason: str, points: int, when: datetime) -> LedgerCredit:
    return LedgerCredit(responder, incident, reason, points, when)


PEOPLE = {
    "r-zhang": Person("r-zhang", "张三明", "RN-2026-000001"),
    "r-li": Person("r-li", "李四", "RN-2026-000002"),
    "r-smith": Person("r-smith", "John Smith", "RN-2026-000003"),
}


def ledger_of_months(per_month: int = 6) -> list[LedgerCredit]:
    """Credits in March, April and December 2026 and January 2027 (local)."""
    credits = []
    for month, year in ((3, 2026), (4, 2026), (12, 2026), (1, 2027)):
        for i in range(per_month):
            responder = sorted(PEOPLE)[i % 3]
            credits.append(
                credit(
                    responder,
                    f"inc-{year}-{month}-{i}",
                    "arrived",
                    10 + i,
                    at(month, 1 + i % 28, 4 + i // 28, year),
                )
            )
    return credits


def ports(
    ledger: Ledger, records: Records | None = None, files: Files | None = None, people=None
) -> ExportPorts:
    return ExportPorts(ledger, records or Records(), People(people or PEOPLE), files or Files(), SIGNER)


def rows_of(p: ExportPorts, export: Export) -> list[dict]:
    files: Files = p.files  # type: ignore[assignment]
    body = files.objects[ce.file_key(export, ce.JSONL)][0]
    return [json.loads(line) for line in body.decode().splitlines()]


def listed_keys(p: ExportPorts, exports: list[Export]) -> list[tuple[str, str, str]]:
    return [(r["certificate_no"], r["incident"], r["act"]) for e in exports for r in rows_of(p, e)]


# --- rows and files ---------------------------------------------------------------------------------


def test_a_row_names_the_certificate_the_masked_name_the_local_date_the_act_and_the_incident():
    # 17:00 UTC on 31 March is 1 April in Hangzhou: the April export lists it, dated 2026-04-01.
    late = credit("r-zhang", "inc-late", "cpr_started", 20, datetime(2026, 3, 31, 17, 0, tzinfo=UTC))
    p = ports(Ledger([late, credit("r-smith", "inc-x", "aed_attached", 20, at(4, 2))]))
    assert ce.run_export(p, "2026-03", "admin-1", NOW, TZ).listed == 0
    export = ce.run_export(p, "2026-04", "admin-1", NOW, TZ)
    assert rows_of(p, export) == [
        {"certificate_no": "RN-2026-000001", "name": "张*明", "date": "2026-04-01", "act": "cpr_started",
         "points": 20, "incident": "inc-late"},
        {"certificate_no": "RN-2026-000003", "name": "J*** S****", "date": "2026-04-02",
         "act": "aed_attached", "points": 20, "incident": "inc-x"},
    ]  # fmt: skip
    assert (export.status, export.listed, export.points, export.created_by) == (READY, 2, 40, "admin-1")


def test_the_csv_has_a_header_and_the_same_rows_as_the_json_lines():
    p = ports(Ledger(ledger_of_months()))
    export = ce.run_export(p, "2026", "admin-1", NOW, TZ)
    files: Files = p.files  # type: ignore[assignment]
    text = files.objects[ce.file_key(export, ce.CSV)][0].decode()
    assert text.startswith("certificate_no,name,date,act,points,incident\r\n")
    from_csv = [{**r, "points": int(r["points"])} for r in csv.DictReader(io.StringIO(text))]
    assert from_csv == rows_of(p, export) and len(from_csv) == export.listed == 18
    assert [f.name for f in export.files] == ["credits.jsonl", "credits.csv"]
    assert files.objects[ce.file_key(export, ce.CSV)][1] == "text/csv; charset=utf-8"


def test_each_file_is_signed_over_its_exact_bytes_and_one_changed_byte_fails():
    p = ports(Ledger(ledger_of_months()))
    export = ce.run_export(p, "2026-03", "admin-1", NOW, TZ)
    files: Files = p.files  # type: ignore[assignment]
    key = load_pem_public_key(export.public_key.encode())
    assert isinstance(key, Ed25519PublicKey) and export.key_id == SIGNER.key_id
    assert export.key_id.startswith("ed25519:")
    for f in export.files:
        body, signature = files.objects[f.key][0], files.objects[f.key + ".sig"][0]
        assert base64.b64decode(f.signature) == signature and len(signature) == 64
        key.verify(signature, body)  # raises if it does not verify
        for position in (0, len(body) // 2, len(body) - 1):
            changed = bytearray(body)
            changed[position] ^= 0x01
            with pytest.raises(InvalidSignature):
                key.verify(signature, bytes(changed))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_documented_openssl_command_verifies_a_file_and_refuses_a_changed_one(tmp_path: Path):
    p = ports(Ledger(ledger_of_months()))
    export = ce.run_export(p, "2026-03", "admin-1", NOW, TZ)
    files: Files = p.files  # type: ignore[assignment]
    (tmp_path / "credit-export-public.pem").write_text(export.public_key)
    f = export.files[0]
    (tmp_path / "credits.jsonl").write_bytes(files.objects[f.key][0])
    (tmp_path / "credits.jsonl.sig").write_bytes(files.objects[f.key + ".sig"][0])
    command = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "credit-export-public.pem", "-rawin",
        "-in", "credits.jsonl", "-sigfile", "credits.jsonl.sig",
    ]  # fmt: skip
    ok = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout
    (tmp_path / "credits.jsonl").write_bytes(files.objects[f.key][0].replace(b'"points":1', b'"points":9', 1))
    assert subprocess.run(command, cwd=tmp_path, capture_output=True, check=False).returncode != 0


# --- never a credit twice -----------------------------------------------------------------------------


def test_adjacent_and_overlapping_periods_never_list_a_credit_twice():
    credits = ledger_of_months()  # 24 credits: 6 in each of 2026-03, 2026-04, 2026-12, 2027-01
    p = ports(Ledger(credits))
    march = ce.run_export(p, "2026-03", "admin-1", NOW, TZ)
    april = ce.run_export(p, "2026-04", "admin-1", NOW, TZ)
    year = ce.run_export(p, "2026", "admin-1", NOW, TZ)  # overlaps both months
    again = ce.run_export(p, "2026-03", "admin-1", NOW, TZ)  # the same period again
    january = ce.run_export(p, "2027-01", "admin-1", NOW, TZ)
    counts = [(e.listed, e.already_exported) for e in (march, april, year, again, january)]
    assert counts == [(6, 0), (6, 0), (6, 12), (0, 6), (6, 0)]
    listed = listed_keys(p, [march, april, year, again, january])
    assert len(listed) == len(set(listed)) == len(credits) == 24


def test_a_month_and_its_year_exported_at_once_never_list_a_credit_twice():
    credits = ledger_of_months(per_month=30)  # 120 credits, 90 of them in 2026 (March, April, December)
    p = ports(Ledger(credits))
    results: list[Export] = []
    start = threading.Barrier(2)

    def run(period: str) -> None:
        start.wait(timeout=10)
        results.append(ce.run_export(p, period, "admin-1", NOW, TZ))

    threads = [threading.Thread(target=run, args=(period,)) for period in ("2026", "2026-03")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2
    listed = listed_keys(p, results)
    assert len(listed) == len(set(listed)) == sum(e.listed for e in results) == 90
    year = next(e for e in results if e.period == "2026")
    month = next(e for e in results if e.period == "2026-03")
    # March's 30 went to one of the two; whatever the year lost to the month it counts, never lists.
    assert year.listed + year.held_elsewhere + year.already_exported == 90
    assert month.listed + month.held_elsewhere + month.already_exported == 30


def test_a_racing_pair_whose_reads_both_come_before_any_claim_still_lists_each_credit_once():
    credits = ledger_of_months(per_month=40)
    ledger = Ledger(credits, barrier=threading.Barrier(2))
    p = ports(ledger)
    results: list[Export] = []
    threads = [
        threading.Thread(target=lambda: results.append(ce.run_export(p, "2026-03", "admin-1", NOW, TZ)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    first, second = results
    # Both read all 40 as unexported; each claim went to one of them.
    assert first.listed + second.listed == 40
    assert first.held_elsewhere + second.held_elsewhere == 40
    listed = listed_keys(p, results)
    assert len(listed) == len(set(listed)) == 40


def test_an_export_that_fails_half_way_gives_its_credits_back_and_the_next_lists_them():
    credits = ledger_of_months()
    ledger, records = Ledger(credits), Records()
    failing = ports(ledger, records, Files(fail_on=3))  # the CSV's write fails, the JSONL's went through
    with pytest.raises(RuntimeError, match="S3 refused"):
        ce.run_export(failing, "2026-03", "admin-1", NOW, TZ)
    (dead,) = records.items.values()
    assert dead.status == FAILED
    assert all(c.exported_in is None for c in ledger.items.values())
    p = ports(ledger, records)
    retry = ce.run_export(p, "2026-03", "admin-1", NOW, TZ)
    assert (retry.listed, retry.already_exported) == (6, 0)


def test_an_export_that_died_holds_its_credits_until_its_lease_ends_then_the_next_takes_them_over():
    credits = ledger_of_months()
    ledger, records = Ledger(credits), Records()
    # An export that claimed four of March's credits and died (its Lambda timed out): no word, no release.
    dead = Export("01DEAD", "2026-03", BUILDING, NOW, "admin-1", NOW + ce.EXPORT_LEASE)
    records.create(dead)
    march = [c for c in credits if c.at.month == 3]
    for c in march[:4]:
        assert ledger.claim(c, dead.export_id, None)
    p = ports(ledger, records)
    early = ce.run_export(p, "2026-03", "admin-1", NOW + timedelta(minutes=1), TZ)
    assert (early.listed, early.held_elsewhere) == (2, 4)  # its lease runs: it may still finish them
    later = ce.run_export(p, "2026-03", "admin-1", NOW + ce.EXPORT_LEASE + timedelta(seconds=1), TZ)
    assert (later.listed, later.already_exported, later.held_elsewhere) == (4, 2, 0)
    assert records.get(dead.export_id).status == ABANDONED
    # Waking up now, the dead export cannot finish: its credits belong to the later one.
    assert records.finish(replace(dead, status=READY)) is False
    listed = listed_keys(p, [early, later])
    assert len(listed) == len(set(listed)) == 6


def test_an_export_overtaken_during_its_run_fails_and_lists_nothing_it_lost(monkeypatch):
    ledger, records = Ledger(ledger_of_months()), Records()
    p = ports(ledger, records)
    original = records.finish

    def abandoned_first(export: Export) -> bool:
        records.end(export.export_id, ABANDONED, export.lease_until + timedelta(seconds=1), True)
        return original(export)

    monkeypatch.setattr(records, "finish", abandoned_first)
    with pytest.raises(Conflict) as raised:
        ce.run_export(p, "2026-03", "admin-1", NOW, TZ)
    assert raised.value.code == "export_abandoned"
    assert all(c.exported_in is None for c in ledger.items.values())


# --- revocation -----------------------------------------------------------------------------------


def test_credits_after_a_revocation_are_not_exported_and_those_before_are():
    revoked = at(3, 15, 0)
    first = certificate("RN-2025-000100", "r-zhang", "张三明", at(1, 1, 0, year=2025), revoked)
    renewed = certificate("RN-2026-000900", "r-zhang", "张三明", at(4, 1, 0))
    people = {"r-zhang": Person("r-zhang", "张三明", renewed.certificate_no, (first, renewed))}
    credits = [
        credit("r-zhang", "inc-before", "arrived", 10, at(3, 10)),
        credit("r-zhang", "inc-same-instant", "arrived", 10, revoked),
        credit("r-zhang", "inc-after", "cpr_started", 20, at(3, 20)),
        credit("r-zhang", "inc-renewed", "aed_attached", 20, at(4, 5)),
    ]
    p = ports(Ledger(credits), people=people)
    export = ce.run_export(p, "2026", "admin-1", NOW, TZ)
    assert [(r["incident"], r["certificate_no"]) for r in rows_of(p, export)] == [
        ("inc-before", "RN-2025-000100"),
        ("inc-renewed", "RN-2026-000900"),
    ]
    assert (export.listed, export.excluded_revoked) == (2, 2)
    # Never claimed, so never exported later either.
    again = ce.run_export(p, "2026", "admin-1", NOW, TZ)
    assert (again.listed, again.excluded_revoked, again.already_exported) == (0, 2, 2)


def test_a_certificate_issued_elsewhere_is_listed_by_the_responders_record():
    person = Person("r-1", "王小明", "ZJ-RC-778899")
    assert ce.certificate_at(person, at(3, 1)) == ("ZJ-RC-778899", "王小明", None)


# --- the period and the records ---------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2026-13", "26-03", "2026-3", "", "1999", "2026-03-01", "abcd"])
def test_a_bad_period_is_refused(period):
    p = ports(Ledger([]))
    with pytest.raises(ValidationFailed):
        ce.run_export(p, period, "admin-1", NOW, TZ)


def test_a_period_that_has_not_begun_is_refused_and_one_under_way_is_exported_so_far():
    p = ports(Ledger([credit("r-li", "inc-1", "arrived", 10, at(1, 3, year=2027))]))
    with pytest.raises(ValidationFailed, match="not begun"):
        ce.run_export(p, "2027-02", "admin-1", NOW, TZ)
    # Hangzhou's February begins at 16:00 UTC on 31 January.
    assert ce.run_export(p, "2027-02", "admin-1", datetime(2027, 1, 31, 16, 0, tzinfo=UTC), TZ).listed == 0
    assert ce.run_export(p, "2027-01", "admin-1", NOW, TZ).listed == 1


def test_an_unknown_export_is_not_found_and_a_list_is_bounded():
    records = Records()
    with pytest.raises(NotFound):
        ce.get_export(records, "nope")
    for limit in (0, 101):
        with pytest.raises(ValidationFailed):
            ce.list_exports(records, limit, None)


# --- nominations ------------------------------------------------------------------------------------


def test_nominations_rank_rescues_with_an_aed_attached_or_rosc_with_the_tie_break_stated():
    credits = [
        # 张: AED in two incidents, one of them ROSC → 2 rescues, 1 ROSC, 2 AED
        credit("r-zhang", "i1", "aed_attached", 20, at(2, 1)),
        credit("r-zhang", "i2", "aed_attached", 20, at(2, 2)),
        credit("r-zhang", "i2", "arrived", 10, at(2, 2)),
        # 李: two ROSC incidents, no AED → 2 rescues, 2 ROSC: first
        credit("r-li", "i2", "cpr_started", 20, at(2, 2)),
        credit("r-li", "i3", "arrived", 10, at(3, 3)),
        # Smith: one incident, no AED, no ROSC → not nominated
        credit("r-smith", "i4", "arrived", 10, at(3, 4)),
        # last year's ROSC does not count
        credit("r-smith", "i9", "arrived", 10, at(12, 30, year=2025)),
    ]
    outcomes = {"i1": "transported", "i2": "rosc", "i3": "rosc", "i4": "deceased", "i9": "rosc"}
    year = [c for c in credits if c.at.year == 2026]
    rows = ce.nominations(year, lambda ids: {i: outcomes[i] for i in ids}, People(PEOPLE), 20, TZ)
    assert [(n.name, n.rank, n.rescues, n.rosc_rescues, n.aed_rescues, n.points) for n in rows] == [
        ("李*", 1, 2, 2, 0, 30),
        ("张*明", 2, 2, 1, 2, 50),
    ]
    assert rows[0].certificate_no == "RN-2026-000002"


def test_equal_nominees_share_a_rank_and_are_ordered_by_certificate_number():
    credits = [credit(r, f"i-{r}", "aed_attached", 20, at(5, 1)) for r in ("r-smith", "r-li", "r-zhang")]
    rows = ce.nominations(credits, lambda ids: dict.fromkeys(ids), People(PEOPLE), 2, TZ)
    assert [(n.rank, n.certificate_no) for n in rows] == [(1, "RN-2026-000001"), (1, "RN-2026-000002")]


def test_a_nominees_rescues_after_a_revocation_do_not_count():
    revoked = certificate("RN-2026-000001", "r-zhang", "张三明", at(1, 1, 0), revoked=at(6, 1))
    people = People({"r-zhang": replace(PEOPLE["r-zhang"], certificates=(revoked,))})
    credits = [
        credit("r-zhang", "i1", "aed_attached", 20, at(5, 1)),
        credit("r-zhang", "i2", "aed_attached", 20, at(7, 1)),
    ]
    (row,) = ce.nominations(credits, lambda ids: dict.fromkeys(ids), people, 20, TZ)
    assert (row.rescues, row.points) == (1, 20)


@pytest.mark.parametrize("year", ["26", "2026-01", "1999", "abcd", ""])
def test_a_bad_year_is_refused(year):
    with pytest.raises(ValidationFailed):
        ce.year_months(year)
