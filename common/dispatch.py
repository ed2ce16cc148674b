"""The transactional outbox for Celery messages: work is never lost to a broker outage.

`dispatch(task, args=…, queue=…, ref=…)` writes a `Dispatch` row in the caller's transaction, next to
the row it stands for (a runtime job, a submission): both commit, or neither does. Right after the
commit the message is sent (`dispatch_send`); when the broker does not answer the row simply stays
pending — the request that made it still succeeds, and pages show "queued, waiting for the queue
service" (`dispatch_waiting`). The periodic task `common.dispatch_pending` (beat, every
`BEAT_DISPATCH_EVERY_S`) and every Celery worker at start send whatever is pending.

States of a row: pending (`sent_at` empty) → sent. Sending locks the row (`SKIP LOCKED`), so two
dispatchers never send one row twice; a dispatcher that dies between the broker's acceptance and its
commit may send a row again, so every task sent this way is idempotent (it re-reads its row's state).
The sweeps count a thing's rows (`dispatch_history`) as its number of attempts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from .models import Dispatch

logger = logging.getLogger(__name__)

# A web request must not wait long for a broker that is down: one quick retry (a stale pooled
# connection after a broker restart), then the row waits for the dispatcher.
QUICK_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def ref_for(obj) -> str:
    """The `ref` of a model instance: 'app_label.model:pk'."""
    return f"{obj._meta.label_lower}:{obj.pk}"


def dispatch(
    task: str, *, args: list | tuple = (), kwargs: dict | None = None, queue: str = "default", ref: str = ""
) -> Dispatch:
    """Records a message to send once the current transaction commits, and tries to send it then.

    Call it inside the transaction that writes the work's own row. Outside a transaction the row is
    committed at once and sent right away."""
    row = Dispatch.objects.create(task=task, args=list(args), kwargs=dict(kwargs or {}), queue=queue, ref=ref)
    transaction.on_commit(lambda: dispatch_send(ids=[row.pk]), robust=True)
    return row


def _send(row: Dispatch, *, retry_policy: dict | None) -> None:
    from config.celery import app

    task = app.tasks.get(row.task)
    if task is not None and app.conf.task_always_eager:  # CELERY_TASK_ALWAYS_EAGER: run it here
        task.apply(args=row.args, kwargs=row.kwargs)
        return
    # ignore_result: nobody waits for these results, and subscribing to a result store that is down
    # would break the process's result backend until a restart.
    app.send_task(
        row.task,
        args=row.args,
        kwargs=row.kwargs,
        queue=row.queue,
        routing_key=row.queue,
        retry=True,
        retry_policy=retry_policy or QUICK_RETRY,
        ignore_result=True,
    )


def dispatch_send(
    *, ids: list[int] | None = None, limit: int = 500, retry_policy: dict | None = None
) -> dict:
    """Sends pending rows (those in `ids`, or the oldest `limit` of all), oldest first. Stops at the first
    broker failure (the broker is down: the rest would fail the same way) and records the error on that
    row. Returns {"sent": n, "pending": rows still pending among those looked at, "error": text}."""
    sent, error = 0, ""
    pending = Dispatch.objects.filter(sent_at__isnull=True)
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    candidates = list(pending.order_by("pk").values_list("pk", flat=True)[:limit])
    for position, pk in enumerate(candidates):
        with transaction.atomic():
            row = (
                Dispatch.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, sent_at__isnull=True)
                .first()
            )
            if row is None:  # sent meanwhile, or another dispatcher holds it
                continue
            try:
                _send(row, retry_policy=retry_policy)
            except Exception as exc:  # noqa: BLE001 - the broker's errors vary by transport
                error = f"{type(exc).__name__}: {exc}"[:2000]
                Dispatch.objects.filter(pk=pk).update(send_attempts=row.send_attempts + 1, last_error=error)
                logger.warning(
                    "broker unavailable, %s message(s) wait in the outbox: %s",
                    len(candidates) - position,
                    error,
                )
                return {"sent": sent, "pending": len(candidates) - position, "error": error}
            row.sent_at = timezone.now()
            row.send_attempts += 1
            row.last_error = ""
            row.save(update_fields=["sent_at", "send_attempts", "last_error"])
            sent += 1
    return {"sent": sent, "pending": 0, "error": error}


# --- Reads ------------------------------------------------------------------------------------------


def dispatch_waiting(ref: str) -> bool:
    """True when a message for `ref` is still waiting for the broker ("waiting for the queue service")."""
    return bool(ref) and Dispatch.objects.filter(ref=ref, sent_at__isnull=True).exists()


@dataclass(frozen=True)
class DispatchHistory:
    count: int  # messages recorded for the thing (each is one attempt to get it done)
    pending: int  # of which not yet sent
    last_created_at: dt.datetime | None
    last_sent_at: dt.datetime | None


def dispatch_history(ref: str, *, task: str | None = None) -> DispatchHistory:
    """How often work for `ref` (optionally one task of it) was dispatched, and when last."""
    rows = Dispatch.objects.filter(ref=ref)
    if task:
        rows = rows.filter(task=task)
    agg = rows.aggregate(n=Count("pk"), last_created=Max("created_at"), last_sent=Max("sent_at"))
    return DispatchHistory(
        count=agg["n"],
        pending=rows.filter(sent_at__isnull=True).count(),
        last_created_at=agg["last_created"],
        last_sent_at=agg["last_sent"],
    )
