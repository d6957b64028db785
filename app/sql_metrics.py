"""Counting what the service asks of its database: statements and transactions, so an
operator (and `bench/messaging.py`) can see what one request costs in round trips."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.metrics import Metrics


def count_sql(engine: AsyncEngine, metrics: Metrics) -> None:
    statements = metrics.sql_statements
    committed = metrics.sql_transactions.labels("commit")
    rolled_back = metrics.sql_transactions.labels("rollback")

    def on_statement(*_: Any) -> None:
        statements.inc()

    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    event.listen(engine.sync_engine, "commit", lambda _: committed.inc())
    event.listen(engine.sync_engine, "rollback", lambda _: rolled_back.inc())
