"""Abuse limits on the rescue loop, so that nobody can page the city's volunteers.

- An anonymous SOS counts against its source: its IP address and, when the app sends one, its device
  id, each with a cap per window (``Policy.sos_per_ip``/``sos_per_device`` per ``sos_window_s``). The
  first SOS from a source always passes (every cap is at least 1), a retry with the same
  Idempotency-Key counts nothing, and the count is taken in the same transaction that stores the
  incident, so the check adds no round trip to the SOS path.
- An alert respects its responder: nobody in a rescue (accepted, not yet closed) is alerted to another,
  and a public SOS alerts nobody more than ``alerts_per_hour`` and ``alerts_per_day`` times (a
  dispatcher's incident passes the caps but counts). Checked in the alert's own write.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shared.logic.rescue.policy import Policy, epoch
from shared.logic.rescue.ports import AlertLimits, Incident, SourceLimit


def source_limits(ip: str | None, device_id: str | None, policy: Policy, now: datetime) -> list[SourceLimit]:
    window = epoch(now) // policy.sos_window_s
    limits = []
    if ip:
        limits.append(SourceLimit(f"ip:{ip}", policy.sos_per_ip, window, policy.sos_window_s))
    if device_id:
        limits.append(SourceLimit(f"device:{device_id}", policy.sos_per_device, window, policy.sos_window_s))
    return limits


def retry_after_s(limit: SourceLimit, now: datetime) -> int:
    """Seconds until the source's next window opens (at least 1)."""
    return max(1, (limit.window + 1) * limit.window_s - epoch(now))


def alert_limits(incident: Incident, policy: Policy, now: datetime) -> AlertLimits:
    public = incident.created_by is None  # the anonymous SOS; a dispatcher's incident has its creator
    return AlertLimits(
        hour=epoch(now) // 3600,
        day=now.astimezone(ZoneInfo(policy.time_zone)).date().toordinal(),
        per_hour=policy.alerts_per_hour if public else None,
        per_day=policy.alerts_per_day if public else None,
        now_epoch=epoch(now),
    )
