"""Read models projected from the event log, each with a checkpoint written in the same transaction as its rows."""

from projections.inbox import InboxProjection, InboxTask, TaskStatus

__all__ = ["InboxProjection", "InboxTask", "TaskStatus"]
