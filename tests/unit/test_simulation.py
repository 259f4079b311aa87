"""The dispatch simulator (cli/simulation): small cities whose answers can be worked out by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from cli.__main__ import main
from cli.simulation import city as city_model
from cli.simulation.city import AedSite, Arrest, City, Place, Responder
from cli.simulation.engine import Behaviour, RunResult, simulate, summarise
from shared import wiring

PATIENT = Place(30.2741, 120.1551)
METRES_PER_DEG_LNG = city_model.METRES_PER_DEG_LAT * 0.8638  # cos(30.27°)
EXACT = Behaviour(
    acceptance=1.0, reaction_median_s=30.0, reaction_spread=0.0, detour=1.3, aed_retrieval_s=60.0
)


def offset(north_m: float, east_m: float = 0.0, base: Place = PATIENT) -> Place:
    return Place(base.lat + north_m / city_model.METRES_PER_DEG_LAT, base.lng + east_m / METRES_PER_DEG_LNG)


def walker(n: int, place: Place) -> Responder:
    # duty_draw 0: on duty all day 0, at home (no commute)
    return Responder(f"r{n:03d}", place, place, commuter=False, cycles=False, duty_draw=0.0)


def tiny_city(
    responders: list[Responder], arrests: list[Arrest] | None = None, aeds: list[AedSite] = ()
) -> City:
    arrests = arrests or [Arrest(1, 10 * 3600.0, PATIENT, at_home=True)]  # Monday 10:00
    return City(1000, responders, list(aeds), arrests, days=1)


def run(city: City, behaviour: Behaviour = EXACT, **policy: object) -> RunResult:
    return simulate(city, replace(wiring.policy(), **policy), behaviour, seed=1, name="test")


def test_one_responder_140_m_away_arrives_after_the_reaction_and_the_walk() -> None:
    result = run(tiny_city([walker(1, offset(140))]))

    (outcome,) = result.outcomes
    assert outcome.alerted == 1 and outcome.accepted == 1
    assert outcome.first_on_scene_s == pytest.approx(30 + 140 * 1.3 / 1.4, abs=0.5)
    assert outcome.aed_on_scene_s is None  # no AED anywhere


def test_cycling_responders_ride_at_the_cycling_speed() -> None:
    cyclist = replace(walker(1, offset(400)), cycles=True)

    (outcome,) = run(tiny_city([cyclist]), replace(EXACT, cycling_mps=4.0)).outcomes

    assert outcome.first_on_scene_s == pytest.approx(30 + 400 * 1.3 / 4.0, abs=0.5)


def test_nobody_accepting_leaves_every_arrest_unanswered_after_both_waves() -> None:
    arrests = [Arrest(n, n * 3600.0, offset(30 * n), at_home=True) for n in range(1, 5)]
    city = tiny_city([walker(n, offset(60 * n, 50)) for n in range(1, 25)], arrests)

    result = run(city, replace(EXACT, acceptance=0.0))
    figures = summarise(result)

    assert figures["unanswered"] == 1.0 and figures["responder_reached"] == 0.0
    # the workflow's second wave and its unanswered step ran: 24 within 2 km, all alerted, then flagged
    assert all(o.alerted == 24 and o.flagged_unanswered for o in result.outcomes)


def test_the_aed_runner_goes_through_the_aed_and_fetches_it() -> None:
    aed = AedSite("aed-1", offset(0, 150), "AED by the patient", "24/7", "lobby")
    responder = walker(1, offset(200))  # via the AED: 250 m + 150 m, twice the 200 m straight line

    (outcome,) = run(tiny_city([responder], aeds=[aed])).outcomes

    via = 250 + 150
    assert outcome.aed_on_scene_s == pytest.approx(30 + via * 1.3 / 1.4 + 60, abs=0.6)
    assert outcome.first_on_scene_s == outcome.aed_on_scene_s
    assert outcome.aed_offered


def test_a_closed_aed_is_not_offered() -> None:
    aed = AedSite("aed-1", offset(0, 150), "AED in an office", "Mo-Fr 08:30-09:00", "lobby")

    (outcome,) = run(tiny_city([walker(1, offset(200))], aeds=[aed])).outcomes  # Monday 10:00: closed

    assert not outcome.aed_offered and outcome.aed_on_scene_s is None
    assert outcome.first_on_scene_s == pytest.approx(30 + 200 * 1.3 / 1.4, abs=0.5)


@pytest.mark.parametrize("wave1_size", [3, 7])
def test_the_real_policy_decides_who_is_alerted(wave1_size: int) -> None:
    city = tiny_city([walker(n, offset(25 * n)) for n in range(1, 31)])

    (outcome,) = run(city, replace(EXACT, acceptance=0.0), wave1_size=wave1_size, wave2_size=0).outcomes

    assert outcome.alerted == wave1_size


def test_the_slots_go_to_the_first_to_accept_and_later_acceptors_are_turned_away() -> None:
    city = tiny_city([walker(n, offset(50 * n)) for n in range(1, 6)])

    (outcome,) = run(city, cpr_slots=2, aed_slots=1).outcomes

    assert outcome.accepted == 2 and outcome.too_late == 3  # no AED here: two CPR slots only


def test_alert_fatigue_counts_every_alert_and_the_hourly_cap_holds() -> None:
    # five arrests 200 m apart (no merging) within one hour, four responders near all of them
    arrests = [Arrest(n, 10 * 3600.0 + 600 * n, offset(0, 200 * n), at_home=True) for n in range(1, 6)]
    city = tiny_city([walker(n, offset(10 * n, 500)) for n in range(1, 5)], arrests)

    result = run(city, replace(EXACT, acceptance=0.0), alerts_per_hour=3)
    figures = summarise(result)

    assert dict(result.alerts_by_responder) == {f"r{n:03d}": 3 for n in range(1, 5)}
    assert figures["alerts_per_responder_month"] == pytest.approx(3 * 30)  # 3 in one day, per month
    assert [o.alerted for o in result.outcomes] == [4, 4, 4, 0, 0]


def test_the_same_seed_gives_the_same_report_and_another_seed_another() -> None:
    def report(seed: int) -> dict[str, object]:
        city = city_model.build(seed, days=1, responders=3000, arrests_per_day=12)
        return summarise(simulate(city, wiring.policy(), Behaviour(), seed, "today"))

    assert report(5) == report(5)
    assert report(5) != report(6)


def test_the_command_prints_json_and_saves_a_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plot = tmp_path / "simulation.png"

    status = main(["simulate", "--days", "1", "--responders", "2000", "--plot", str(plot), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [p["policy"] for p in report["policies"]] == ["today", "nearest10-direct"]
    assert report["policies"][1]["settings"]["aed_slots"] == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
