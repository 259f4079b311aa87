"""In-memory implementations of the ports the dispatch rules depend on (shared/logic/ports.py and
shared/logic/rescue/ports.py), with the conditions the DynamoDB adapter (shared/dal/rescue.py) enforces:
nobody alerted twice, nobody busy in another rescue alerted, the hourly and daily alert caps, one slot
per accept, an AED claimed by one runner. The rules run unchanged on them."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from cli.simulation.city import AedSite, City, Place, Responder, cell_of, cells_around, hour_of
from shared.geo.distance import haversine_m
from shared.logic.ports import AED_USABLE, CLAIM, RESPONDER, Hit
from shared.logic.rescue.ports import (
    ALERT_ALREADY,
    ALERT_REFUSED,
    ALERT_WRITTEN,
    AedOption,
    Alert,
    AlertLimits,
    DuplicateSos,
    GuardKey,
    Incident,
    IncidentEvent,
    Notice,
    SourceLimit,
)


class SimulatedGeo:
    """The GeoIndex port. Responders are found where they are at ``now_epoch`` (home, or work on a
    weekday's working hours) and only when on duty; other kinds (AEDs, incidents) are stored as put."""

    def __init__(self, city: City, start_epoch: int) -> None:
        self._start = start_epoch
        self._lock = threading.Lock()
        self._by_cell: dict[tuple[int, int], list[tuple[Responder, Place]]] = defaultdict(list)
        for responder in city.responders:
            self._by_cell[cell_of(responder.home)].append((responder, responder.home))
            if responder.commuter and responder.work != responder.home:
                self._by_cell[cell_of(responder.work)].append((responder, responder.work))
        self._items: dict[str, dict[str, Hit]] = defaultdict(dict)
        self._expiry: dict[tuple[str, str], int | None] = {}
        for aed in city.aeds:
            self.put(AED_USABLE, aed.aed_id, aed.place.lat, aed.place.lng, attributes=aed_attributes(aed))

    def put(
        self,
        kind: str,
        entity_id: str,
        lat: float,
        lng: float,
        expires_at: int | None = None,
        attributes: Mapping[str, str] | None = None,
        keep: Collection[str] = (),
    ) -> None:
        with self._lock:
            old = self._items[kind].get(entity_id)
            kept = {k: v for k, v in (old.attributes if old else {}).items() if k in keep}
            self._items[kind][entity_id] = Hit(entity_id, lat, lng, 0.0, {**(attributes or {}), **kept})
            self._expiry[(kind, entity_id)] = expires_at

    def remove(self, kind: str, entity_id: str) -> None:
        with self._lock:
            self._items[kind].pop(entity_id, None)

    def nearby(self, kind: str, lat: float, lng: float, radius_m: float, now_epoch: int) -> list[Hit]:
        if kind == RESPONDER:
            return self._responders(lat, lng, radius_m, now_epoch)
        with self._lock:
            items = list(self._items[kind].values())
        hits = []
        for item in items:
            expires = self._expiry.get((kind, item.entity_id))
            if expires is not None and expires <= now_epoch:
                continue
            distance = haversine_m(lat, lng, item.lat, item.lng)
            if distance <= radius_m:
                hits.append(replace(item, distance_m=distance))
        return sorted(hits, key=lambda h: (h.distance_m, h.entity_id))

    def in_box(self, kind: str, min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> list[Hit]:
        raise NotImplementedError("the dispatch rules search by radius only")

    def positions(
        self, kind: str, entity_ids: Collection[str], lat: float, lng: float, now_epoch: int
    ) -> list[Hit]:
        """By id (a team's members: the synthetic city has no teams, so an SOS never asks)."""
        wanted = set(entity_ids)
        if kind == RESPONDER:
            day, hour = hour_of(now_epoch - self._start)
            found = {
                responder.responder_id: Hit(
                    responder.responder_id,
                    where.lat,
                    where.lng,
                    haversine_m(lat, lng, where.lat, where.lng),
                    {},
                )
                for placed in self._by_cell.values()
                for responder, where in placed
                if responder.responder_id in wanted
                and responder.at(day, hour) == where
                and responder.on_duty(day, hour)
            }
            return sorted(found.values(), key=lambda h: (h.distance_m, h.entity_id))
        return [h for h in self.nearby(kind, lat, lng, float("inf"), now_epoch) if h.entity_id in wanted]

    def set_claim(self, aed_id: str, incident_id: str | None) -> bool:
        """The DAL's AED claim: set only when unclaimed (or released by its incident)."""
        with self._lock:
            item = self._items[AED_USABLE].get(aed_id)
            if item is None:
                return False
            claimed = item.attributes.get(CLAIM)
            attributes = {k: v for k, v in item.attributes.items() if k != CLAIM}
            if incident_id is None:
                self._items[AED_USABLE][aed_id] = replace(item, attributes=attributes)
                return True
            if claimed:
                return False
            self._items[AED_USABLE][aed_id] = replace(item, attributes={**attributes, CLAIM: incident_id})
            return True

    def _responders(self, lat: float, lng: float, radius_m: float, now_epoch: int) -> list[Hit]:
        day, hour = hour_of(now_epoch - self._start)
        centre = Place(lat, lng)
        hits = []
        for cell in cells_around(centre, radius_m):
            for responder, where in self._by_cell.get(cell, ()):
                if responder.at(day, hour) != where or not responder.on_duty(day, hour):
                    continue
                distance = haversine_m(lat, lng, where.lat, where.lng)
                if distance <= radius_m:
                    hits.append(Hit(responder.responder_id, where.lat, where.lng, distance, {}))
        return sorted(hits, key=lambda h: (h.distance_m, h.entity_id))


def aed_attributes(aed: AedSite) -> dict[str, str]:
    return {"name": aed.name, "placement": aed.placement, "opening_hours": aed.opening_hours}


class MemoryIncidents:
    """Every capability of the rescue store the SOS, the waves and the answers use, in memory."""

    def __init__(self, geo: SimulatedGeo) -> None:
        self._geo = geo
        self._lock = threading.RLock()
        self._incidents: dict[str, Incident] = {}
        self._alerts: dict[str, dict[str, Alert]] = defaultdict(dict)
        self._events: dict[str, list[IncidentEvent]] = defaultdict(list)
        self._once: dict[str, IncidentEvent] = {}
        self._busy: dict[str, tuple[str, int]] = {}  # responder → (incident, until epoch)
        self._tally: dict[tuple[str, str, int], int] = defaultdict(int)  # (responder, "hour"|"day", n)

    # -- incidents --------------------------------------------------------------------------------
    def get(self, incident_id: str) -> Incident | None:
        with self._lock:
            found = self._incidents.get(incident_id)
            return _copy(found) if found else None

    def create(
        self,
        incident: Incident,
        key_hash: str | None,
        body_hash: str,
        limits: list[SourceLimit],
        keys: Sequence[GuardKey] = (),
    ) -> None:
        with self._lock:
            if incident.incident_id in self._incidents:
                raise DuplicateSos(incident.incident_id, same_body=True)
            self._incidents[incident.incident_id] = _copy(incident)

    def set_aed_options(self, incident_id: str, options: list[AedOption], slots_aed: int) -> None:
        with self._lock:
            incident = self._incidents[incident_id]
            incident.aed_options, incident.slots_aed = list(options), slots_aed

    def merge(self, incident_id: str, into: str, joined: IncidentEvent) -> bool:
        with self._lock:
            incident = self._incidents[incident_id]
            if incident.status != "dispatching":
                return False
            incident.status, incident.merged_into = "merged", into
            self._events[into].append(joined)
            return True

    def count_alerted(self, incident_id: str, at_least: int) -> None:
        with self._lock:
            incident = self._incidents[incident_id]
            incident.alerted = max(incident.alerted, at_least)

    def set_wave(self, incident_id: str, wave: int) -> None:
        with self._lock:
            self._incidents[incident_id].wave = wave

    def mark_unanswered(self, incident_id: str) -> bool:
        with self._lock:
            incident = self._incidents[incident_id]
            if incident.unanswered or incident.closed:
                return False
            incident.unanswered = True
            return True

    def mark_centre_told(self, incident_id: str) -> None:
        with self._lock:
            self._incidents[incident_id].centre_told = True

    def advance_status(self, incident_id: str, to: str, allowed_from: tuple[str, ...]) -> bool:
        with self._lock:
            incident = self._incidents[incident_id]
            if incident.status not in allowed_from:
                return False
            incident.status = to
            return True

    def close(self, incident_id: str, outcome: str, closed_at: datetime) -> Incident | None:
        with self._lock:
            incident = self._incidents[incident_id]
            if incident.closed:
                return None
            incident.status, incident.outcome, incident.closed_at = "closed", outcome, closed_at.isoformat()
            return _copy(incident)

    def release(self, incident_id: str, responder_ids: list[str]) -> None:
        with self._lock:
            for responder_id in responder_ids:
                if self._busy.get(responder_id, ("", 0))[0] == incident_id:
                    del self._busy[responder_id]

    # -- alerts -----------------------------------------------------------------------------------
    def add_alert(self, alert: Alert, limits: AlertLimits) -> str:
        """As the DAL's one transaction: not alerted before, not busy elsewhere, within both caps."""
        with self._lock:
            if alert.responder_id in self._alerts[alert.incident_id]:
                return ALERT_ALREADY
            busy = self._busy.get(alert.responder_id)
            if busy and busy[0] != alert.incident_id and busy[1] >= limits.now_epoch:
                return ALERT_REFUSED
            hour = (alert.responder_id, "hour", limits.hour)
            day = (alert.responder_id, "day", limits.day)
            if (limits.per_hour is not None and self._tally[hour] >= limits.per_hour) or (
                limits.per_day is not None and self._tally[day] >= limits.per_day
            ):
                return ALERT_REFUSED
            self._tally[hour] += 1
            self._tally[day] += 1
            self._alerts[alert.incident_id][alert.responder_id] = replace(alert)
            return ALERT_WRITTEN

    def alerts(self, incident_id: str) -> list[Alert]:
        with self._lock:
            return [replace(a) for a in self._alerts[incident_id].values()]

    def get_alert(self, incident_id: str, responder_id: str) -> Alert | None:
        with self._lock:
            found = self._alerts[incident_id].get(responder_id)
            return replace(found) if found else None

    def notice_sent(self, incident_id: str, responder_id: str, notice: str) -> None:
        with self._lock:
            alert = self._alerts[incident_id][responder_id]
            if alert.notice == notice:
                alert.notice, alert.notice_lease_until = None, None

    def release_notice(self, incident_id: str, responder_id: str, notice: str) -> None:
        with self._lock:
            alert = self._alerts[incident_id][responder_id]
            if alert.notice == notice:
                alert.notice_lease_until = 0

    def take_notice(
        self, incident_id: str, responder_id: str, notice: str, now: int, lease_until: int
    ) -> bool:
        with self._lock:
            alert = self._alerts[incident_id][responder_id]
            if alert.notice != notice or (alert.notice_lease_until or 0) > now:
                return False
            alert.notice_lease_until = lease_until
            return True

    def stand_down(self, incident_id: str, responder_id: str, lease_until: int, at: datetime) -> bool:
        with self._lock:
            alert = self._alerts[incident_id][responder_id]
            if alert.state != "alerted":
                return False
            alert.state, alert.stood_down_at = "stood_down", at
            alert.notice, alert.notice_lease_until = "stand_down", lease_until
            return True

    # -- answers ----------------------------------------------------------------------------------
    def accept(
        self,
        incident_id: str,
        responder_id: str,
        role: str,
        aed_id: str | None,
        now: datetime,
        busy_until: int,
    ) -> bool:
        """As the DAL's one transaction: a slot of that role, the alert still only alerted, the AED
        unclaimed; then the responder is busy in this rescue."""
        with self._lock:
            incident = self._incidents[incident_id]
            alert = self._alerts[incident_id].get(responder_id)
            filled, slots = (
                (incident.filled_aed, incident.slots_aed)
                if role == "aed"
                else (incident.filled_cpr, incident.slots_cpr)
            )
            if incident.closed or filled >= slots or alert is None or alert.state != "alerted":
                return False
            if aed_id and not self._geo.set_claim(aed_id, incident_id):
                return False
            if role == "aed":
                incident.filled_aed += 1
            else:
                incident.filled_cpr += 1
            alert.state, alert.role, alert.aed_id, alert.answered_at = "accepted", role, aed_id, now
            self._busy[responder_id] = (incident_id, busy_until)
            return True

    def decline(self, incident_id: str, responder_id: str, now: datetime) -> bool:
        with self._lock:
            alert = self._alerts[incident_id].get(responder_id)
            if alert is None or alert.state != "alerted":
                return False
            alert.state, alert.answered_at = "declined", now
            return True

    def drop_aed_option(self, incident_id: str, aed_id: str) -> Incident | None:
        raise NotImplementedError("the simulation reports no AED faults")

    def reassign_aed(
        self,
        incident_id: str,
        responder_id: str,
        old_aed_id: str,
        new_aed_id: str | None,
        lease_until: int | None,
    ) -> bool:
        raise NotImplementedError("the simulation reports no AED faults")

    # -- events -----------------------------------------------------------------------------------
    def add_event(self, event: IncidentEvent) -> None:
        with self._lock:
            self._events[event.incident_id].append(event)

    def add_event_once(self, event: IncidentEvent, once_key: str) -> IncidentEvent:
        with self._lock:
            if once_key not in self._once:
                self._once[once_key] = event
                self._events[event.incident_id].append(event)
            return self._once[once_key]


def _copy(incident: Incident) -> Incident:
    return replace(incident, aed_options=list(incident.aed_options) if incident.aed_options else None)


@dataclass(frozen=True)
class SentNotice:
    kind: str  # alert, stand_down, reroute
    incident_id: str
    responder_id: str


class RecordingNotifier:
    """The Notifier port: what the rules publish, kept for the simulation to act on (in a stable order:
    the rules publish from several threads at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[SentNotice] = []
        self.centre_told: list[str] = []

    def notify(self, alert: Alert, notice: Notice) -> None:
        with self._lock:
            self._pending.append(SentNotice(notice.kind, alert.incident_id, alert.responder_id))

    def tell_dispatch_centre(self, incident_id: str, message: str) -> None:
        with self._lock:
            self.centre_told.append(incident_id)

    def drain(self) -> list[SentNotice]:
        with self._lock:
            sent, self._pending = self._pending, []
        return sorted(sent, key=lambda n: (n.incident_id, n.kind, n.responder_id))


class QueuedWorkflow:
    """The Workflow port: executions asked for are started by the simulation once the call that asked
    returns (the SOS starts its workflow from a worker thread, beside writing the alerts)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[str, dict[str, object]]] = []

    def start(self, incident_id: str, payload: Mapping[str, object]) -> None:
        with self._lock:
            self._pending.append((incident_id, dict(payload)))

    def resume(self, token: str) -> None:
        """Closure resumes a parked execution; the simulation closes incidents itself."""

    def drain(self) -> list[tuple[str, dict[str, object]]]:
        with self._lock:
            started, self._pending = self._pending, []
        return started
