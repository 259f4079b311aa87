"""The credits export and the nominations through the real handlers on the embedded AWS (DynamoDB, S3,
Secrets Manager): signed files as produced, never a credit twice over adjacent, overlapping and racing
exports, a revoked certificate's later credits left out, and the routes' roles and validation."""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
from datetime import UTC, date, datetime

import boto3
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from ulid import ULID

from shared.config import settings
from shared.dal.certification import DynamoCertificates, DynamoExams
from shared.dal.credits_export import DynamoExportLedger
from shared.dal.rescue import DynamoIncidents
from shared.dal.responders import DynamoResponders
from shared.logic.certification.ports import Certificate, Score
from shared.logic.ports import Responder
from shared.logic.rescue.ports import Award, Incident

ADMIN = {"sub": "admin-1", "roles": ("admin",)}
COUNTED = ("listed", "already_exported", "held_elsewhere")
ISSUED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
REVOKED = datetime(2026, 3, 15, 0, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 4) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def responder(responder_id: str, name: str, certificate_no: str) -> None:
    DynamoResponders().create(
        Responder(responder_id, name, "+8613800000000", certificate_no, date(2029, 1, 4), ISSUED)
    )


def issued(responder_id: str, name: str, number: str) -> None:
    """A certificate the platform issued (an exam passed), as shared.dal.certification stores it."""
    exam_id = str(ULID())
    score = Score(exam_id, responder_id, "c-1", "ex-1", {"cpr": 90}, True, [], ISSUED, number)
    certificate = Certificate(
        number, responder_id, name, "+8613800000000", "c-1", "救护员", exam_id, ISSUED.date(),
        date(2029, 1, 4), ISSUED,
    )  # fmt: skip
    assert DynamoExams().record(score, certificate)


def rescue(when: datetime, awards: dict[str, list[tuple[str, int]]], outcome: str = "transported") -> str:
    """A closed incident whose close awarded these points (as shared.logic.rescue.closure does)."""
    incidents = DynamoIncidents()
    incident = Incident(str(ULID()), "closed", 30.259, 120.165, when, 2, 1, outcome=outcome)
    incidents.create(incident, None, "body")
    given = [Award(r, reason, points) for r, items in awards.items() for reason, points in items]
    assert incidents.award(incident.incident_id, given, when)
    return incident.incident_id


@pytest.fixture
def people(aws):
    responder("r-zhang", "张三明", "RN-2026-000001")
    issued("r-zhang", "张三明", "RN-2026-000001")
    responder("r-li", "李四", "ZJ-HZ-2025-0042")  # certified elsewhere: the number on the record
    responder("r-smith", "John Smith", "RN-2026-000003")
    issued("r-smith", "John Smith", "RN-2026-000003")


def export(api, period: str):
    return api("POST", "/v1/credits/exports", {"period": period}, **ADMIN)


def stored(key: str) -> bytes:
    body = boto3.client("s3").get_object(Bucket=settings().credit_exports_bucket, Key=key)["Body"]
    return bytes(body.read())


def files_of(reply) -> dict[str, bytes]:
    return {f["name"]: stored(f["key"]) for f in reply.body["files"]}


def listed(replies) -> list[tuple[str, str, str]]:
    rows = [json.loads(line) for r in replies for line in files_of(r)["credits.jsonl"].decode().splitlines()]
    return [(r["certificate_no"], r["incident"], r["act"]) for r in rows]


def test_an_export_is_two_signed_files_with_the_same_rows_and_a_revoked_certificates_later_credits_left_out(
    api, people
):
    before = rescue(at(3, 10), {"r-zhang": [("arrived", 10), ("cpr_started", 20)], "r-li": [("arrived", 10)]})
    after = rescue(at(3, 20), {"r-zhang": [("aed_attached", 20)], "r-smith": [("arrived", 10)]}, "rosc")
    assert DynamoCertificates().revoke("RN-2026-000001", REVOKED, "misconduct", "admin-1")

    reply = export(api, "2026-03")
    assert reply.status == 201, reply.body
    body = reply.body
    assert body["status"] == "ready" and body["period"] == "2026-03" and body["created_by"] == "admin-1"
    assert body["counts"] == {
        "listed": 4, "points": 50, "excluded_revoked": 1, "already_exported": 0, "held_elsewhere": 0,
    }  # fmt: skip
    files = files_of(reply)
    rows = [json.loads(line) for line in files["credits.jsonl"].decode().splitlines()]
    assert {(r["certificate_no"], r["name"], r["incident"], r["act"]) for r in rows} == {
        ("RN-2026-000001", "张*明", before, "arrived"),
        ("RN-2026-000001", "张*明", before, "cpr_started"),
        ("ZJ-HZ-2025-0042", "李*", before, "arrived"),
        ("RN-2026-000003", "J*** S****", after, "arrived"),
    }
    assert ("RN-2026-000001", after) not in {(r["certificate_no"], r["incident"]) for r in rows}
    table = list(csv.DictReader(io.StringIO(files["credits.csv"].decode())))
    assert [{**r, "points": int(r["points"])} for r in table] == rows
    # Each file's detached signature verifies over its exact bytes; one changed byte does not.
    key = load_pem_public_key(body["public_key"].encode())
    for f in body["files"]:
        data, signature = files[f["name"]], stored(f["key"] + ".sig")
        assert base64.b64decode(f["signature"]) == signature
        key.verify(signature, data)  # type: ignore[union-attr]
        with pytest.raises(InvalidSignature):
            key.verify(signature, data[:-1] + bytes([data[-1] ^ 1]))  # type: ignore[union-attr]
        assert f["url"].startswith("http") and f["signature_url"] != f["url"]
    # As read back: the same record, and it is first on the list.
    again = api("GET", f"/v1/credits/exports/{body['export_id']}", **ADMIN)
    assert again.status == 200
    assert {k: v for k, v in again.body.items() if k != "files"} == {
        k: v for k, v in body.items() if k != "files"
    }
    assert api("GET", "/v1/credits/exports", **ADMIN).body["items"][0]["export_id"] == body["export_id"]
    print("\nexport as produced:", json.dumps({k: v for k, v in body.items() if k != "public_key"}, indent=1))
    for name, data in files.items():
        print(f"--- {name}\n{data.decode()}", end="")


def test_adjacent_overlapping_and_racing_exports_never_list_a_credit_twice(api, people, capsys, monkeypatch):
    for day in range(1, 6):
        rescue(at(3, day), {"r-zhang": [("arrived", 10)], "r-li": [("cpr_started", 20)]})
        rescue(at(4, day), {"r-smith": [("arrived", 10)], "r-li": [("arrived", 10)]})
        rescue(at(5, day), {"r-zhang": [("aed_attached", 20)], "r-smith": [("arrived", 10)]})
    total = 30
    march, april = export(api, "2026-03"), export(api, "2026-04")
    year = export(api, "2026")  # overlaps both
    same = export(api, "2026-04")  # the same period again
    replies = [march, april, year, same]
    assert all(r.status == 201 for r in replies), [r.body for r in replies]
    counts = [(r.body["counts"]["listed"], r.body["counts"]["already_exported"]) for r in replies]
    assert counts == [(10, 0), (10, 0), (10, 20), (0, 10)]
    rows = listed(replies)
    assert len(rows) == len(set(rows)) == total

    # A racing pair: a month and its year, started together, over 20 new credits.
    for day in range(10, 15):
        rescue(at(6, day), {"r-zhang": [("arrived", 10)], "r-li": [("cpr_started", 20)]})
        rescue(at(7, day), {"r-smith": [("arrived", 10)], "r-li": [("arrived", 10)]})
    raced: list = []
    start = threading.Barrier(2)
    # Each export's first claim waits until the other has read the ledger too: both see the same 20
    # credits unexported, and the conditional claims alone decide who lists each one.
    both_read = threading.Barrier(2)
    waited: set[str] = set()
    lock = threading.Lock()
    claim = DynamoExportLedger.claim

    def claim_after_both_read(self, credit, export_id, take_from):
        with lock:
            first = export_id not in waited
            waited.add(export_id)
        if first:
            both_read.wait(timeout=30)
        return claim(self, credit, export_id, take_from)

    monkeypatch.setattr(DynamoExportLedger, "claim", claim_after_both_read)

    def run(period: str) -> None:
        start.wait(timeout=10)
        raced.append(export(api, period))

    threads = [threading.Thread(target=run, args=(p,)) for p in ("2026", "2026-06")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [r.status for r in raced] == [201, 201], [r.body for r in raced]
    new = listed(raced)
    assert len(new) == len(set(new)) == 20
    counts_of = {r.body["period"]: r.body["counts"] for r in raced}
    # The year saw June's 10 unexported and lost to the month each one the month claimed first (or the
    # other way round): what one lists the other counts as held elsewhere.
    assert counts_of["2026"]["listed"] + counts_of["2026-06"]["listed"] == 20
    assert counts_of["2026"]["held_elsewhere"] + counts_of["2026-06"]["held_elsewhere"] == 10
    everything = rows + new
    assert len(everything) == len(set(everything)) == total + 20
    with capsys.disabled():
        print(
            f"\nnever twice: {len(everything)} rows listed over 6 exports, {len(set(everything))} distinct, "
            f"{total + 20} credits in the ledger; per export (listed, already, held elsewhere): "
            + ", ".join(
                f"{r.body['period']} {tuple(r.body['counts'][k] for k in COUNTED)}" for r in replies + raced
            )
        )


def test_only_admins_export_and_nominate_and_bad_periods_and_years_are_refused(api, people):
    for path, query, body in (
        ("/v1/credits/exports", None, {"period": "2026-03"}),
        ("/v1/credits/nominations", {"year": "2026"}, None),
    ):
        method = "POST" if body else "GET"
        assert api(method, path, body, query=query).status == 401
        for roles in ((), ("responder",), ("dispatcher",), ("trainer",), ("aed_manager",), ("examiner",)):
            refused = api(method, path, body, query=query, sub="someone", roles=roles)
            assert refused.status == 403 and refused.body["error"]["code"], roles
    for period in ("2026-13", "26-03", "2026-3", "", "1999", "2099-01", "2026-03-01"):
        bad = export(api, period)
        assert bad.status == 422 and bad.body["error"]["code"] == "validation_failed", period
    assert api("POST", "/v1/credits/exports", {"period": 202603}, **ADMIN).status == 422
    assert api("POST", "/v1/credits/exports", {}, **ADMIN).status == 422
    for year in ("26", "2026-01", "1999", "abcd"):
        assert api("GET", "/v1/credits/nominations", query={"year": year}, **ADMIN).status == 422
    assert api("GET", "/v1/credits/nominations", query={"year": "2026", "limit": 101}, **ADMIN).status == 422
    missing = api("GET", "/v1/credits/exports/01NOSUCHEXPORT", **ADMIN)
    assert missing.status == 404 and missing.body["error"]["code"] == "not_found"
    assert api("GET", "/v1/credits/exports", query={"next_token": "not-ours"}, **ADMIN).status == 422


def test_exports_are_listed_newest_first_a_page_at_a_time(api, people):
    rescue(at(3, 1), {"r-li": [("arrived", 10)]})
    made = [export(api, p).body["export_id"] for p in ("2026-01", "2026-02", "2026-03")]
    first = api("GET", "/v1/credits/exports", query={"limit": 2}, **ADMIN).body
    assert [e["export_id"] for e in first["items"]] == made[::-1][:2]
    second = api("GET", "/v1/credits/exports", query={"limit": 2, "next_token": first["next_token"]}, **ADMIN)
    assert [e["export_id"] for e in second.body["items"]] == made[:1]
    assert second.body.get("next_token") is None


def test_nominations_rank_rescues_with_an_aed_attached_or_rosc(api, people):
    rescue(at(2, 1), {"r-li": [("cpr_started", 20)], "r-smith": [("arrived", 10)]}, "rosc")
    rescue(at(2, 2), {"r-li": [("arrived", 10)]}, "rosc")
    rescue(at(2, 3), {"r-smith": [("aed_attached", 20)]})
    rescue(at(3, 20), {"r-zhang": [("aed_attached", 20)]}, "rosc")  # after the revocation below
    rescue(at(3, 1), {"r-zhang": [("arrived", 10)]})  # neither AED nor ROSC
    assert DynamoCertificates().revoke("RN-2026-000001", REVOKED, "misconduct", "admin-1")
    reply = api("GET", "/v1/credits/nominations", query={"year": "2026"}, **ADMIN)
    assert reply.status == 200, reply.body
    assert reply.body == {
        "year": "2026",
        "items": [
            {"rank": 1, "responder_id": "r-li", "certificate_no": "ZJ-HZ-2025-0042", "name": "李*",
             "rescues": 2, "aed_rescues": 0, "rosc_rescues": 2, "points": 30},
            {"rank": 2, "responder_id": "r-smith", "certificate_no": "RN-2026-000003", "name": "J*** S****",
             "rescues": 2, "aed_rescues": 1, "rosc_rescues": 1, "points": 30},
        ],
    }  # fmt: skip
    assert api("GET", "/v1/credits/nominations", query={"year": "2025"}, **ADMIN).body["items"] == []
