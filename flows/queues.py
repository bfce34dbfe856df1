"""Prefect's background queues: what is left to send when a stage ends on a stop."""

from __future__ import annotations

from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker


def drain_prefect_queues(timeout: float) -> None:
    """Send Prefect's queued logs and events, each queue waiting at most `timeout` seconds."""
    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout)
