"""The alert tally behind the RespondersAlerted and AlertsFailed metrics: it counts what SNS took and
refused, alerts only, and changes nothing of what the notifier does."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from shared.logic.messages import Text
from shared.logic.rescue.ports import Alert, Notice
from shared.logic.rescue.tally import AlertTally

ALERT = Alert("i-1", "r-1", "alerted", 1, 120.0, 30.0, 120.0, datetime(2026, 12, 1, tzinfo=UTC))


def notice(kind: str, tag: str) -> Notice:
    """A notice told apart by ``tag`` (carried as its incident variable)."""
    return Notice(kind, "i-1", Text("rescue_stand_down", {"incident": tag}))


class FlakySns:
    def __init__(self, refuse: set[str]) -> None:
        self.refuse, self.sent, self.told = refuse, [], []

    def notify(self, alert: Alert, notice: Notice) -> None:
        if notice.text.params["incident"] in self.refuse:
            raise ConnectionError("SNS unreachable")
        self.sent.append((alert.responder_id, notice.kind))

    def tell_dispatch_centre(self, incident_id: str, message: str) -> None:
        self.told.append(incident_id)


def test_alerts_taken_and_refused_are_counted_stand_downs_and_reroutes_are_not():
    sns = FlakySns(refuse={"lost", "lost stand-down"})
    tally = AlertTally(lambda: sns)
    tally.notify(ALERT, notice("alert", "go"))
    tally.notify(ALERT, notice("alert", "go again"))
    with pytest.raises(ConnectionError):  # the failure still reaches the logic, which retries it
        tally.notify(ALERT, notice("alert", "lost"))
    tally.notify(ALERT, notice("stand_down", "thanks"))
    tally.notify(ALERT, notice("reroute", "other AED"))
    with pytest.raises(ConnectionError):
        tally.notify(ALERT, notice("stand_down", "lost stand-down"))
    tally.tell_dispatch_centre("i-1", "unanswered")
    assert (tally.published, tally.failed) == (2, 1)
    assert sns.sent == [("r-1", "alert"), ("r-1", "alert"), ("r-1", "stand_down"), ("r-1", "reroute")]
    assert sns.told == ["i-1"]


def test_nothing_is_built_until_something_is_published():
    built = []
    AlertTally(lambda: built.append("sns") or FlakySns(set()))
    assert built == []


def test_the_first_notices_sent_together_build_one_notifier():
    built = []

    def factory() -> FlakySns:
        time.sleep(0.05)  # building a client takes a while: long enough for the others to arrive
        built.append("sns")
        return FlakySns(set())

    tally = AlertTally(factory)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: tally.notify(ALERT, notice("alert", "go")), range(8)))
    assert built == ["sns"] and tally.published == 8
