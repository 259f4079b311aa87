"""One DynamoDB client for every table, built once, on the botocore session the other clients use.

pynamodb gives each model class a connection of its own, each connection a botocore session of its own
(one per thread), and builds the connection's client on first use, without a lock. A cold SOS function
therefore built a client per table and per racing thread: the geo index's parallel Queries and the
alerts written in parallel made 17 on the first SOS with ten responders near, each loading botocore's
endpoint and service data afresh (about 55 ms of CPU apiece: more than importing the handler), all on
the critical path. A pynamodb ``Connection`` serves any table whose schema it holds (the transactions
use one that way), so every model is pointed at one, which shared.wiring builds, client included,
before a request fans out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pynamodb.connection import Connection
from pynamodb.exceptions import TableError
from pynamodb.models import Model

if TYPE_CHECKING:
    from botocore.session import Session


class SessionConnection(Connection):
    """A pynamodb Connection on a given botocore session (pynamodb's own makes one per thread)."""

    def __init__(self, session: Session, region: str) -> None:
        super().__init__(region=region)
        self._shared_session = session

    @property
    def session(self) -> Session:
        return self._shared_session


def attach(connection: Connection) -> None:
    """Point every table model loaded so far at ``connection``, its schema with it (so no DescribeTable
    is ever needed); models loaded later are attached by the next call. Idempotent."""
    for model in _table_models(Model):
        table = model._get_connection()  # pynamodb's per-model accessor: builds no client
        if table.connection is connection:
            continue
        try:
            connection.get_meta_table(table.table_name)
        except TableError:
            connection.add_meta_table(table.get_meta_table())
        table.connection = connection


def _table_models(base: type[Model]) -> Iterator[type[Model]]:
    """The concrete models: the leaves. A base class shares its table with its subclasses, and
    pynamodb's per-model connection is a class attribute they would inherit from it (the geo index's
    base has none of the indexes its subclass queries)."""
    for model in base.__subclasses__():
        if model.__subclasses__():
            yield from _table_models(model)
        elif getattr(getattr(model, "Meta", None), "table_name", None):
            yield model
