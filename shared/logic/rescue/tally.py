"""What the rescue's notices did, for the metrics: a Notifier that counts the alerts SNS took and the
ones it refused, then hands everything on. Observed at the port, so every stage that publishes alerts
(the SOS request, later waves, the workflow's re-deliveries, the finish) is counted the same way, and
the stages themselves neither count nor know about metrics. A handler wraps its notifier in one per
invocation and records the counts when the logic returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shared.logic.rescue.ports import Alert, Notice, Notifier


class AlertTally:
    def __init__(self, notifier: Callable[[], Notifier]) -> None:
        self._factory = notifier  # nothing is built until something is published
        self._notifier: Notifier | None = None
        self._lock = threading.Lock()  # notices go out from a thread pool
        self.published = 0
        self.failed = 0
        self.first_published_at: float | None = None  # time.monotonic() when SNS took the first alert

    def notify(self, alert: Alert, notice: Notice) -> None:
        try:
            self._resolved().notify(alert, notice)
        except Exception:
            self._count(notice, failed=1)
            raise
        self._count(notice, published=1)

    def tell_dispatch_centre(self, incident_id: str, message: str) -> None:
        self._resolved().tell_dispatch_centre(incident_id, message)

    def _resolved(self) -> Notifier:
        # Under the lock: the first notices go out together, and a factory racing itself on several
        # threads would build a client on each.
        with self._lock:
            if self._notifier is None:
                self._notifier = self._factory()
            return self._notifier

    def _count(self, notice: Notice, *, published: int = 0, failed: int = 0) -> None:
        if notice.kind != "alert":  # stand-downs and re-routes are not alerts
            return
        with self._lock:
            self.published += published
            self.failed += failed
            if published and self.first_published_at is None:
                self.first_published_at = time.monotonic()
