"""Lambda's event source mappings, on one machine: a poller per DynamoDB stream and per SQS queue that
shared.routes.STREAM_SOURCES and QUEUE_SOURCES name (the same list CDK maps in the cloud), handing the
real handler the events Lambda would: stream records in batches, in order, a failed batch handed over
again (the shard waits for it); queue messages in batches, the ones the handler did not report failed
deleted, a failed one left for the queue to show again when its visibility ends (a FIFO group waits).

In the cloud the event sources run on Lambda's machines; here they share one process (and one GIL)
with the gateway. So a poller does not start a poll while the gateway serves a request (REQUESTS): it
waits for a moment without one, at most YIELD_AT_MOST_S, then polls anyway. The records, their order,
their batches' limits and what the functions do with them are unchanged; they arrive a little later."""

from __future__ import annotations

import hashlib
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from shared.config import settings
from shared.routes import QUEUE_SOURCES, STREAM_SOURCES, QueueSource

POLL_EVERY_S = 0.2  # Lambda polls a stream shard about 4 times a second
RETRY_FAILED_BATCH_S = 1.0
YIELD_AT_MOST_S = 2.0  # a poller waits this long at most for the gateway to be idle


Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


class InFlight:
    """The gateway's requests being served: the pollers wait for a moment with none."""

    def __init__(self) -> None:
        self._idle = threading.Condition()
        self._count = 0

    @contextmanager
    def serving(self) -> Iterator[None]:
        with self._idle:
            self._count += 1
        try:
            yield
        finally:
            with self._idle:
                self._count -= 1
                if self._count == 0:
                    self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Until no request is being served (True), or timeout seconds (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


REQUESTS = InFlight()


class _Poller(threading.Thread):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def next_poll(self) -> bool:
        """After POLL_EVERY_S, and once the gateway is idle (or YIELD_AT_MOST_S): False once stopped."""
        if self.stopped.wait(POLL_EVERY_S):
            return False
        REQUESTS.wait_idle(YIELD_AT_MOST_S)
        return not self.stopped.is_set()


class StreamPoller(_Poller):
    """One table's stream (moto keeps one shard), from its latest record on, as a mapping created with
    StartingPosition LATEST reads it."""

    def __init__(self, invoke: Invoke, function: str, table_name: str) -> None:
        super().__init__(f"stream:{table_name}")
        import boto3

        self._invoke, self._function = invoke, function
        # moto answers DynamoDB Streams on its .amazonaws.com address only (not the China regions' .com.cn)
        self._streams = boto3.client(
            "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{settings().region}.amazonaws.com"
        )
        self._arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        shard = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"][0][
            "ShardId"
        ]
        self._iterator = self._streams.get_shard_iterator(
            StreamArn=self._arn, ShardId=shard, ShardIteratorType="LATEST"
        )["ShardIterator"]

    def run(self) -> None:
        while self.next_poll():
            answer = self._streams.get_records(ShardIterator=self._iterator, Limit=100)
            records = answer.get("Records", [])
            if records:
                event = {"Records": [record | {"eventSourceARN": self._arn} for record in records]}
                while not self._handled(event):
                    if self.stopped.wait(RETRY_FAILED_BATCH_S):
                        return
            self._iterator = answer["NextShardIterator"]

    def _handled(self, event: dict[str, Any]) -> bool:
        try:
            self._invoke(self._function, event)
            return True
        except Exception:
            traceback.print_exc()
            return False


class QueuePoller(_Poller):
    def __init__(self, invoke: Invoke, source: QueueSource, queue_url: str) -> None:
        super().__init__(f"queue:{source.function}")
        import boto3

        self._invoke, self._source, self._url = invoke, source, queue_url
        self._sqs = boto3.client("sqs")
        self._arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def run(self) -> None:
        while self.next_poll():
            messages = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=self._source.batch_size,
                AttributeNames=["All"],
            ).get("Messages", [])
            if messages:
                self._hand_over(messages)

    def _hand_over(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(m) for m in messages]}
        try:
            answer = self._invoke(self._source.function, event) or {}
        except Exception:
            traceback.print_exc()
            return  # none deleted: each shows again when its visibility ends
        failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(done[start : start + 10])
                ],
            )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": settings().region,
        }


def start(invoke: Invoke) -> list[_Poller]:
    """A poller per stream and queue source, started."""
    config = settings()
    pollers: list[_Poller] = []
    for stream in STREAM_SOURCES:
        pollers += [StreamPoller(invoke, stream.function, getattr(config, table)) for table in stream.tables]
    for queue in QUEUE_SOURCES:
        pollers.append(QueuePoller(invoke, queue, getattr(config, queue.queue)))
    for poller in pollers:
        poller.start()
    return pollers


def stop(pollers: list[_Poller]) -> None:
    for poller in pollers:
        poller.stop()
    for poller in pollers:
        poller.join(timeout=10)
