"""A task that fails because the database is down (issue 13): django-q2 cannot write its failure, so the worker
logs it as one JSON line, and the broker still hands it out again after Q_RETRY.

django-q2's own worker and monitor loops run here in-process, on a task claimed from the ORM broker as the
cluster's pusher claims it. Made to fail first: without the `post_execute_in_worker` receiver there is no line,
and the failure was only in django-q's multi-line log text.
"""

import json
from datetime import timedelta
from multiprocessing import Queue, Value

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ, Task
from django_q.monitor import monitor
from django_q.signing import SignedPackage
from django_q.tasks import async_task
from django_q.worker import worker

from cedarheights.models import EmailLog

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_task_failed_by_the_database_is_logged_as_one_line_and_handed_out_again_after_the_retry_delay(
    database_relay, caplog
):
    log = EmailLog.objects.create(recipient="ana@example.com", template="welcome_parent", subject="Welcome")
    async_task("cedarheights.emails.email_send", log.pk, "Set your password: /reset/SECRET/", "<p>hi</p>", sync=False)
    broker = get_broker()
    retry = timedelta(seconds=settings.Q_CLUSTER["retry"])
    claiming = timezone.now()
    [(ack_id, package)] = broker.dequeue()  # claimed, as the cluster's pusher claims it
    claimed = timezone.now()
    task = {**SignedPackage.loads(package), "ack_id": ack_id}
    tasks, results = Queue(), Queue()
    for item in (task, "STOP"):
        tasks.put(item)

    database_relay.down()
    worker(tasks, results, Value("f", -1))  # runs the task: it cannot reach the database
    results.put("STOP")
    monitor(results, broker)  # cannot save the failure either
    database_relay.up()

    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "cedarheights.tasks"]
    assert line["event"] == "task_failed"
    assert (line["task"], line["task_id"], line["task_name"]) == (
        "cedarheights.emails.email_send",
        task["id"],
        task["name"],
    )
    assert line["reference"] == {"email_log_id": log.pk}
    assert line["error"].startswith("OperationalError: connection failed")
    assert "SECRET" not in json.dumps(line)  # the email's body, with its link, stays out of the log
    assert not Task.objects.exists()  # django-q's failure table stayed empty: the line is all there is
    # Not acknowledged: the same row, claimed until Q_RETRY after the claim, is then handed out again.
    assert claiming + retry <= OrmQ.objects.get(pk=ack_id).lock <= claimed + retry
    assert broker.dequeue() is None  # not before the retry delay
    assert EmailLog.objects.get(pk=log.pk).status == EmailLog.Status.QUEUED  # nothing was sent


def test_a_task_that_succeeds_logs_no_failure_line(caplog):
    log = EmailLog.objects.create(recipient="ana@example.com", template="welcome_parent", subject="Welcome")
    async_task("cedarheights.emails.email_send", log.pk, "Hello", "<p>Hello</p>", sync=False)
    [(ack_id, package)] = get_broker().dequeue()
    tasks, results = Queue(), Queue()
    for item in ({**SignedPackage.loads(package), "ack_id": ack_id}, "STOP"):
        tasks.put(item)

    worker(tasks, results, Value("f", -1))

    assert results.get(timeout=5)["success"] is True
    assert not [r for r in caplog.records if r.name == "cedarheights.tasks"]
    assert EmailLog.objects.get(pk=log.pk).status == EmailLog.Status.SENT
