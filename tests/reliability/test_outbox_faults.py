"""Work leaves a transaction only with it: the hand-off to the worker commits with the change or not at all.

Real PostgreSQL commits (`transaction=True`). django-q2's queue is read as its worker reads it (OrmQ rows and
their signed packages); Redis is this machine's. The tests run django-q2 in `sync` mode; a broker passed
explicitly is used as is.
"""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django_q.brokers import Broker
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from cedarheights.models import TaskOutbox, WorkerHeartbeat
from cedarheights.outbox import (
    RUN_TASK,
    task_args_queued,
    task_enqueue_with_commit,
    task_outbox_relay,
    task_outbox_run,
)
from tests.concurrency import at_once

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
TASK = "cedarheights.tasks.worker_heartbeat"


class Rollback(Exception):
    pass


def rows_seen_elsewhere() -> int:
    """The queue as the worker sees it: from another connection, so only what is committed."""
    [seen] = at_once(OrmQ.objects.count, times=1)
    return seen


class BrokerAway(Broker):
    """A broker out of our transaction (as Redis is) that cannot be reached: what a crash after commit leaves."""

    def enqueue(self, task):
        raise ConnectionError("the broker is away")


@pytest.fixture
def redis_broker():
    """django-q2's Redis broker on this machine's Redis (127.0.0.1:6379), on a queue of this test's own."""
    broker = Redis(list_key=f"outbox-test-{uuid.uuid4()}")
    yield broker
    broker.delete_queue()


def packages_on(broker: Redis) -> list[dict]:
    return [SignedPackage.loads(task) for task in broker.connection.lrange(broker.list_key, 0, -1)]


def test_on_the_orm_broker_the_task_row_commits_with_the_change_and_only_then_is_seen():
    """Made to fail first: enqueuing on commit (the old hand-off) leaves no row inside the transaction."""
    with transaction.atomic():
        WorkerHeartbeat.objects.create(seen_at="2000-01-01T00:00Z")  # the change
        task_enqueue_with_commit(TASK, 7, broker=ORM(list_key="cedarheights"))
        assert OrmQ.objects.count() == 1  # written in this transaction...
        assert rows_seen_elsewhere() == 0  # ...and nowhere else until it commits
    assert rows_seen_elsewhere() == 1
    assert task_args_queued(func=TASK) == [(7,)]


def test_on_the_orm_broker_a_rolled_back_change_leaves_no_task():
    with pytest.raises(Rollback), transaction.atomic():
        WorkerHeartbeat.objects.create(seen_at="2000-01-01T00:00Z")
        task_enqueue_with_commit(TASK, 7, broker=ORM(list_key="cedarheights"))
        raise Rollback
    assert OrmQ.objects.count() == 0 and not WorkerHeartbeat.objects.exists()


def test_in_sync_mode_the_task_runs_after_the_commit_never_inside_the_transaction():
    """Made to fail first: calling `async_task` at once (inline, inside the transaction) writes the heartbeat
    before the commit."""
    with transaction.atomic():
        task_enqueue_with_commit(TASK)
        assert not WorkerHeartbeat.objects.exists()
    assert WorkerHeartbeat.objects.exists()

    with pytest.raises(Rollback), transaction.atomic():
        task_enqueue_with_commit(TASK)
        raise Rollback
    WorkerHeartbeat.objects.all().delete()
    assert not WorkerHeartbeat.objects.exists() and OrmQ.objects.count() == 0


def test_on_redis_an_outbox_row_commits_with_the_change_and_is_relayed_after_it(redis_broker):
    with transaction.atomic():
        task_enqueue_with_commit(TASK, 7, broker=redis_broker)
        [entry] = TaskOutbox.objects.all()
        assert (entry.func, entry.args) == (TASK, [7])
        assert packages_on(redis_broker) == []  # nothing leaves before the commit
    assert [(p["func"], p["args"]) for p in packages_on(redis_broker)] == [(RUN_TASK, (entry.pk,))]

    with pytest.raises(Rollback), transaction.atomic():
        task_enqueue_with_commit(TASK, 8, broker=redis_broker)
        raise Rollback
    assert len(packages_on(redis_broker)) == 1 and TaskOutbox.objects.get().pk == entry.pk

    # The row stays until the worker has run its task (Redis forgets a task once handed out)
    assert TaskOutbox.objects.get().relayed_at is not None


def test_an_outbox_row_the_relay_could_not_send_is_relayed_by_the_scheduled_relay_once():
    # Given a commit whose relay failed (the broker away, or the process gone before it ran)
    with transaction.atomic():
        task_enqueue_with_commit(TASK, 9, broker=BrokerAway())
    assert task_args_queued(func=TASK) == [(9,)]  # the sweeper sees it waiting
    entry = TaskOutbox.objects.get()

    # When the scheduled relay runs, twice at once, on django-q2's ORM queue
    relayed = at_once(lambda: task_outbox_relay(broker=ORM(list_key="cedarheights")))

    # Then the task is queued once, and its row waits for it to run
    assert sorted(relayed) == [0, 1]
    assert [(row.func(), row.args()) for row in OrmQ.objects.all()] == [(RUN_TASK, (entry.pk,))]
    assert task_args_queued(func=TASK) == [(9,)]


def test_a_relayed_task_whose_worker_was_lost_is_relayed_again_after_the_retry_time_and_runs_once(redis_broker):
    """Made to fail first: the relay deleted the row as it handed the task to Redis, which pops a task with no
    acknowledgement; a worker killed with it in hand lost it (tests/deploy/test_several_servers.py lost 7 of 100)."""
    # Given a task relayed to Redis and popped by a worker that was then killed
    with transaction.atomic():
        task_enqueue_with_commit(TASK, broker=redis_broker)
    redis_broker.purge_queue()
    entry = TaskOutbox.objects.get()

    # When the scheduled relay runs within the retry time, nothing goes; after it, the task goes again
    assert task_outbox_relay(broker=redis_broker) == 0
    TaskOutbox.objects.update(relayed_at=entry.relayed_at - timedelta(seconds=Conf.RETRY + 1))
    assert task_outbox_relay(broker=redis_broker) == 1
    assert [(p["func"], p["args"]) for p in packages_on(redis_broker)] == [(RUN_TASK, (entry.pk,))]

    # Then it runs, its row goes, and a late second delivery of the same row does nothing
    task_outbox_run(entry.pk)
    assert WorkerHeartbeat.objects.exists()
    WorkerHeartbeat.objects.all().delete()
    task_outbox_run(entry.pk)
    assert not TaskOutbox.objects.exists() and not WorkerHeartbeat.objects.exists()
