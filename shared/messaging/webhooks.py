"""The status webhooks' ways out (shared/logic/dispatch/outbound.py): the POST to a centre's callback URL,
the FIFO queue of incidents that changed, and the dead-letter queue a webhook is parked in."""

from __future__ import annotations

import json
from typing import Any

import urllib3

from shared.logic.dispatch.outbound import Delivery, Posted


class CallbackPoster:
    """POSTs with urllib3: no redirect followed (the signed body goes to the URL the admin registered and
    nowhere else), a connect and a read timeout, TLS verified against certifi's roots."""

    def __init__(self) -> None:
        self._http = urllib3.PoolManager(retries=False, maxsize=4)

    def post(self, url: str, headers: dict[str, str], body: str, timeout_s: float) -> Posted:
        try:
            response = self._http.request(
                "POST",
                url,
                body=body.encode("utf-8"),
                headers=headers | {"user-agent": "RescueNearby-Webhooks/1"},
                # total: a server that trickles its answer cannot hold the run past the budget
                timeout=urllib3.Timeout(total=timeout_s, connect=min(3.0, timeout_s)),
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.NewConnectionError as error:  # before TimeoutError: urllib3 makes it one
            return Posted(False, f"cannot connect: {error}"[:300])
        except urllib3.exceptions.TimeoutError:
            return Posted(False, f"timed out after {timeout_s:g} s")
        except urllib3.exceptions.HTTPError as error:  # refused, reset, TLS, DNS...
            return Posted(False, f"{type(error).__name__}: {error}"[:300])
        try:
            response.read(64 * 1024, decode_content=False)  # drained for the pool; the answer is unused
        except urllib3.exceptions.HTTPError:
            pass
        finally:
            response.release_conn()
        return Posted(200 <= response.status < 300, f"HTTP {response.status}")


class SqsChangesQueue:
    """One message per change run: group = the incident (its runs take turns), deduplicated by id."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs, self._url = client, queue_url

    def changed(self, incident_id: str, dedup_id: str, centre_id: str | None = None) -> None:
        self.changed_many([(incident_id, dedup_id, centre_id)])

    def changed_many(self, runs: list[tuple[str, str, str | None]]) -> None:
        for start in range(0, len(runs), 10):
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": json.dumps(
                        {"incident_id": incident_id} | ({"centre_id": centre_id} if centre_id else {})
                    ),
                    "MessageGroupId": incident_id,
                    "MessageDeduplicationId": dedup_id[:128],
                }
                for n, (incident_id, dedup_id, centre_id) in enumerate(runs[start : start + 10])
            ]
            answer = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            if answer.get("Failed"):
                raise RuntimeError(
                    f"SQS refused {len(answer['Failed'])} change message(s): {answer['Failed']}"
                )


class SqsParkedQueue:
    """The dead-letter queue (FIFO, as the changes queue's redrive target must be): what ops read."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs, self._url = client, queue_url

    def park(self, delivery: Delivery) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps(
                {
                    "parked": "status webhook failed for 24 h",
                    "centre_id": delivery.centre_id,
                    "delivery_id": delivery.webhook_id,
                    "incident_id": delivery.incident_id,
                    "type": delivery.type,
                    "attempts": delivery.attempts,
                    "last_result": delivery.last_result,
                }
            ),
            MessageGroupId=delivery.centre_id,
            MessageDeduplicationId=f"{delivery.webhook_id}.parked{delivery.replays}"[:128],
        )
