"""Never overbooked: simultaneous registrations and cancellations through the real handlers, on real
threads, against the embedded DynamoDB (which applies one write at a time, as DynamoDB does per item).

Run with -s to see the figures: `.venv/bin/pytest -q -s tests/integration/test_teaching_concurrency.py`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local_runtime import outbox
from tests.integration.teaching_helpers import add_course, add_session, phone_of, register


def _all_at_once(calls: list[Any]) -> list[Any]:
    """Start every call on its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _session_view(api, session_id):
    """(confirmed registrations, waiting ones by position), read back as the instructor sees them."""
    reply = api(
        "GET", f"/v1/sessions/{session_id}/attendance", query={"limit": 100}, sub="admin", roles=("admin",)
    )
    items = list(reply.body["items"])
    while reply.body["next_token"]:
        reply = api(
            "GET",
            f"/v1/sessions/{session_id}/attendance",
            query={"limit": 100, "next_token": reply.body["next_token"]},
            sub="admin",
            roles=("admin",),
        )
        items += reply.body["items"]
    confirmed = [i for i in items if i["status"] == "confirmed"]
    waiting = sorted((i for i in items if i["status"] == "waitlisted"), key=lambda i: i["position"])
    return confirmed, waiting


def test_200_simultaneous_registrations_for_30_seats(api):
    session_id = add_session(api, add_course(api), capacity=30)
    replies = _all_at_once([lambda n=n: register(api, session_id, f"person-{n}", n) for n in range(200)])

    assert [r.status for r in replies] == [201] * 200, [r.body for r in replies if r.status != 201][:3]
    # Each answer is the caller's own registration (no request saw another's event).
    assert [r.body["person_id"] for r in replies] == [f"person-{n}" for n in range(200)]
    assert [r.body["phone"] for r in replies] == [phone_of(n) for n in range(200)]
    confirmed = [r.body for r in replies if r.body["status"] == "confirmed"]
    waitlisted = [r.body for r in replies if r.body["status"] == "waitlisted"]
    answered_positions = sorted(r["position"] for r in waitlisted)
    print(
        f"\n200 simultaneous registrations for 30 seats: {len(confirmed)} confirmed, {len(waitlisted)} "
        f"waitlisted, positions answered {answered_positions[0]}..{answered_positions[-1]} "
        f"({len(set(answered_positions))} distinct)"
    )
    assert len(confirmed) == 30 and len(waitlisted) == 170
    assert all(r["position"] is None for r in confirmed)
    assert answered_positions == list(range(1, 171))  # no gaps, no repeats

    # Read back: the same 30 seats, and every place answered is the place held (arrival order kept).
    seats, line = _session_view(api, session_id)
    assert {s["registration_id"] for s in seats} == {r["registration_id"] for r in confirmed}
    answered = {r["registration_id"]: r["position"] for r in waitlisted}
    assert [(w["registration_id"], w["position"]) for w in line] == sorted(
        answered.items(), key=lambda x: x[1]
    )
    listing = api(
        "GET", "/v1/sessions", sub="member", query={"near": "30.2590,120.1650", "radius_m": 500}
    ).body["items"]
    assert (listing[0]["seats_left"], listing[0]["waitlisted"]) == (0, 170)

    # Two simultaneous cancellations promote the first two in line, one each, and text them.
    first, second = line[0], line[1]
    cancels = _all_at_once(
        [
            lambda r=confirmed[0]: api(
                "DELETE", f"/v1/registrations/{r['registration_id']}", sub=r["person_id"]
            ),
            lambda r=confirmed[1]: api(
                "DELETE", f"/v1/registrations/{r['registration_id']}", sub=r["person_id"]
            ),
        ]
    )
    assert [c.status for c in cancels] == [200, 200] and {c.body["status"] for c in cancels} == {"cancelled"}
    seats_after, line_after = _session_view(api, session_id)
    promoted = {s["registration_id"] for s in seats_after} - {s["registration_id"] for s in seats}
    print(
        f"two simultaneous cancellations: {len(seats_after)} confirmed, promoted {len(promoted)} "
        f"(positions 1 and 2: {promoted == {first['registration_id'], second['registration_id']}}), "
        f"{len(line_after)} waiting at positions {line_after[0]['position']}..{line_after[-1]['position']}"
    )
    assert len(seats_after) == 30
    assert promoted == {first["registration_id"], second["registration_id"]}
    assert [w["registration_id"] for w in line_after] == [w["registration_id"] for w in line[2:]]
    assert [w["position"] for w in line_after] == list(range(1, 169))
    for person in (first, second):
        texts = outbox.read(to=phone_of(int(person["person_id"].split("-")[1])))
        assert len(texts) == 1 and "confirmed" in texts[0]["message"]


def test_cancellations_racing_registrations_never_overbook(api):
    course_id = add_course(api)
    for round_no in range(3):
        session_id = add_session(api, course_id, capacity=5)
        seated = [register(api, session_id, f"r{round_no}-seat-{n}", n).body for n in range(5)]
        calls = [
            lambda r=r: api("DELETE", f"/v1/registrations/{r['registration_id']}", sub=r["person_id"])
            for r in seated[:2]
        ] + [
            lambda n=n, s=session_id, k=round_no: register(api, s, f"r{k}-new-{n}", 100 + n)
            for n in range(10)
        ]
        replies = _all_at_once(calls)
        assert all(r.status in (200, 201) for r in replies), [r.body for r in replies if r.status >= 300]
        seats, line = _session_view(api, session_id)
        print(
            f"race {round_no}: 2 cancellations vs 10 registrations for 5 seats: "
            f"{len(seats)} confirmed, {len(line)} waiting"
        )
        assert len(seats) == 5  # never more, and no seat left free while anyone waits
        assert len(line) == 3 + 10 - 5  # everyone else waits, in one line without gaps
        assert [w["position"] for w in line] == list(range(1, 9))
