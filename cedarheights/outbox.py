"""How work leaves a transaction: recorded in it, so a crash after the commit cannot lose it.

`task_enqueue_with_commit` is the one way the project hands a task to the worker. On django-q2's ORM broker
over our own database the task row itself is written inside the caller's transaction: it commits with the
change, or not at all. Any other broker (Redis) cannot join our transaction, so a `TaskOutbox` row is written
instead; after the commit it is relayed to the broker, and the scheduled `task_outbox_relay` relays any row a
crash left behind. Redis hands a task out once and forgets it (django-q2's Redis broker pops it, with no
acknowledgement), so a worker killed with tasks in hand would lose them: the row stays until the task has run
(`task_outbox_run` deletes it), and a row relayed longer than django-q2's `retry` ago and still there is relayed
again, as the ORM broker hands out a task its worker never acknowledged. Either way the task is at least once:
every task must be idempotent.
"""

import logging
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.tasks import async_task

from cedarheights.models import TaskOutbox

logger = logging.getLogger(__name__)


def task_enqueue_with_commit(func: str, *args, broker: Broker | None = None) -> None:
    """Hand `func(*args)` to the worker as part of the current transaction (django-q2's broker by default).

    In django-q2's `sync` mode (the tests) the task runs inline after the commit, as a worker would run it:
    never inside the caller's transaction, where a task that opens a durable transaction would fail.
    """
    if broker is None and Conf.SYNC:
        transaction.on_commit(lambda: async_task(func, *args))
        return
    broker = broker or get_broker()
    if _joins_our_transaction(broker):
        # The ORM broker inserts through the same connection (django_q.brokers.orm.ORM.enqueue); inside an
        # atomic block it touches nothing else, so the row commits or rolls back with the caller's change.
        async_task(func, *args, broker=broker, sync=False)
        return
    entry = TaskOutbox.objects.create(func=func, args=list(args))
    transaction.on_commit(lambda: task_outbox_relay(broker=broker, entry_ids=[entry.pk]))


def _joins_our_transaction(broker: Broker) -> bool:
    return isinstance(broker, ORM) and Conf.ORM == DEFAULT_DB_ALIAS


def _relay_due() -> Q:
    """Rows never relayed, or relayed so long ago that the worker that took them is gone (django-q2's `retry`
    exceeds its `timeout`: a task still running by then was stopped)."""
    return Q(relayed_at__isnull=True) | Q(relayed_at__lt=timezone.now() - timedelta(seconds=Conf.RETRY))


def task_outbox_relay(*, broker: Broker | None = None, entry_ids: list[int] | None = None) -> int:
    """Enqueue the outbox rows that are due on the broker (all of them, or those of `entry_ids`), each as a
    `task_outbox_run` of itself; the number relayed.

    Each row is locked (`SKIP LOCKED`), enqueued and marked relayed in one transaction, so two relays never take
    the same row. A crash after the enqueue and before the commit relays it again: at least once.
    """
    broker = broker or get_broker()
    entries = TaskOutbox.objects.filter(_relay_due()).order_by("pk")
    if entry_ids is not None:
        entries = entries.filter(pk__in=entry_ids)
    relayed = 0
    for entry_id in entries.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                entry = TaskOutbox.objects.select_for_update(skip_locked=True).filter(_relay_due(), pk=entry_id).first()
                if entry is None:
                    continue  # relayed by another process meanwhile, or already run
                async_task(RUN_TASK, entry.pk, broker=broker, sync=False, task_name=entry.func[:100])
                entry.relayed_at = timezone.now()
                entry.save(update_fields=["relayed_at"])
        except Exception:  # the broker is away: the row stays for the next relay, the others go on
            logger.exception("Could not relay outbox task %s; it stays for the next relay.", entry_id)
            continue
        relayed += 1
    return relayed


RUN_TASK = "cedarheights.outbox.task_outbox_run"


def task_outbox_run(entry_id: int) -> None:
    """The worker's side of a relayed row: run its task, then delete the row (also when the task raised: that
    attempt is over, as on the ORM broker). A row already gone was run by an earlier delivery."""
    entry = TaskOutbox.objects.filter(pk=entry_id).first()
    if entry is None:
        return
    try:
        import_string(entry.func)(*entry.args)
    finally:
        TaskOutbox.objects.filter(pk=entry_id).delete()


def task_args_queued(*, func: str) -> list[tuple]:
    """The arguments of every `func` task waiting for the worker (or running): in django-q2's ORM queue or in
    the outbox (kept there until it has run)."""
    queued = [tuple(args) for args in TaskOutbox.objects.filter(func=func).values_list("args", flat=True)]
    if _joins_our_transaction(get_broker()):
        # The payload is signed and pickled: decoded here, row by row (a short queue).
        queued += [tuple(row.args() or ()) for row in OrmQ.objects.using(Conf.ORM).all() if row.func() == func]
    return queued
