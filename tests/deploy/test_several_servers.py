"""Several servers, one truth (issue 19 §1): two gunicorn app servers on two loopback ports and two django-q2
workers (`manage.py qcluster`), all with production settings, REDIS_URL on one Redis database and the same
PostgreSQL test database, as a host runs them behind a load balancer.

- a rate limit is global: the limit's requests spread over both servers pass, the next is refused on either;
- a lesson booked through server A is not offered by server B's slot finder a moment later (B's free-time cache
  warmed first);
- 200 emails handed to the workers from both servers (100 through each) are each sent once;
- a worker killed with SIGKILL mid-burst loses no task.

Made to fail first: the killed worker lost 7 of the 100 emails (django-q2's Redis broker pops a task with no
acknowledgement, and the outbox deleted its row as it relayed it); now the row stays until the task has run and
the scheduled relay hands it out again after Q_RETRY (cedarheights/outbox.py).
"""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path

import pytest
import redis
from django.apps import apps
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.utils import timezone

from accounts.models import SchoolNews
from accounts.services import marketing_consent_give
from cedarheights.models import EmailLog, TaskOutbox
from cedarheights.roles import Role
from cedarheights.selectors import privacy_notice_current
from scheduling.models import Lesson
from tests.factories import ParentFactory, UserFactory
from tests.live_servers import (
    ProcessGroup,
    database_url,
    gunicorn_start,
    production_env,
    qcluster_start,
    qcluster_wait_running,
)
from tests.reliability.smtp_sink import SmtpSink
from tests.reliability.test_faults_mid_burst import _payloads
from tests.stripe_server import free_port

# The servers outlive each test's flush and keep what a process keeps (content types' ids): sequences restart, so
# the rows the flush makes again get the same ids.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, reset_sequences=True)]

# Its own Redis database number: emptied before and after, no other test's keys touched.
SERVERS_REDIS_URL = os.environ.get("TEST_SERVERS_REDIS_URL", "redis://127.0.0.1:6379/1")
PUBLIC_LIMIT = 6  # PUBLIC_API_RATE per minute, for every server together
PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's
READERS = 100  # parents opted in to the school's news: one email task each per news
SETTLE_SECONDS = 150  # a lost task comes back after Q_RETRY (20 s), at the next scheduled relay (every minute)


@dataclass
class Cluster:
    servers: list[ProcessGroup]
    workers: list[ProcessGroup]
    sink: SmtpSink
    env: dict
    logs: Path

    def worker_restart(self, index: int) -> None:
        self.workers[index] = qcluster_wait_running(qcluster_start(self.env, self.logs / f"qcluster-{index}-again.log"))

    def output(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.logs.glob("*")))


@pytest.fixture(scope="module")
def cluster(django_db_setup, local_stripe_server, tmp_path_factory):
    logs = tmp_path_factory.mktemp("several-servers")
    shared = redis.Redis.from_url(SERVERS_REDIS_URL)
    shared.flushdb()
    sink = SmtpSink().start()
    env = production_env(
        database_url=database_url(connection.settings_dict),
        stripe_url=local_stripe_server.url,
        smtp_port=sink.port,
        REDIS_URL=SERVERS_REDIS_URL,
        PUBLIC_API_RATE=f"{PUBLIC_LIMIT}/minute",
        ENROLL_API_RATE="100000/minute",
        AUTH_API_RATE="100000/minute",
        Q_WORKERS="2",
        Q_TIMEOUT="10",
        Q_RETRY="20",
    )
    cluster = Cluster(servers=[], workers=[], sink=sink, env=env, logs=logs)
    try:
        for name in ("a", "b"):
            cluster.servers.append(gunicorn_start(env, logs / f"gunicorn-{name}.log", port=free_port(), workers=2))
        for index in range(2):
            cluster.workers.append(qcluster_start(env, logs / f"qcluster-{index}.log"))
        for worker in cluster.workers:
            qcluster_wait_running(worker)
        yield cluster
    finally:
        for process in cluster.workers + cluster.servers:
            process.stop()
        sink.stop()
        shared.flushdb()
        shared.close()


@pytest.fixture
def servers(cluster):
    """Both servers, their shared cache emptied of what an earlier test left (its rows are gone: a settings row
    cached from them would be stale); the workers' own keys stay. The outbox relay is scheduled, as its migration
    scheduled it (an earlier test's flush emptied django-q2's schedules)."""
    with redis.Redis.from_url(SERVERS_REDIS_URL) as shared:
        for key in shared.scan_iter("cedarheights:*"):
            shared.delete(key)
    import_module("cedarheights.migrations.0010_task_outbox").schedule_relay(apps, None)
    return cluster.servers


def fetch(url: str, *, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def test_a_rate_limit_holds_across_both_servers(servers, school):
    # Given the public API's limit, the same for every server
    a, b = servers
    # When its requests are spread over both servers
    passed = [fetch(f"{server.url}/api/v1/public/pricing/")[0] for server in (a, b) * (PUBLIC_LIMIT // 2)]
    # Then all pass, and the next one is refused whichever server gets it
    refused = [fetch(f"{server.url}/api/v1/public/pricing/")[0] for server in (b, a)]
    assert (passed, refused) == ([200] * PUBLIC_LIMIT, [429, 429])


def _offered(server: ProcessGroup, query: str) -> set[tuple[int, datetime]]:
    """Every (teacher, start) the public slot finder offers, page after page."""
    offered, url = set(), f"{server.url}/api/v1/public/timeslots/?{query}&page_size=100"
    while url:
        status, body = fetch(url)
        assert status == 200, body
        page = json.loads(body)
        offered |= {(slot["teacher"]["id"], datetime.fromisoformat(slot["start"])) for slot in page["results"]}
        url = page["next"]
    return offered


def test_a_lesson_booked_through_one_server_is_not_offered_by_the_other(servers, school_ready):
    # Given server B's slot finder asked once (its answer now in the shared free-time cache)
    a, b = servers
    today = timezone.localdate()
    query = f"instrument={school_ready['piano'].pk}&start={today}&end={today + timedelta(days=27)}&minutes=30"
    before = _offered(b, query)

    # When a family enrolls through server A, which books its demo lesson and its weekly lesson
    status, body = fetch(
        f"{a.url}/api/v1/enrollments/",
        data=json.dumps(_payloads(school_ready)[0]).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 202, body
    booked = {
        (lesson.teacher_id, lesson.start_at)
        for lesson in Lesson.objects.filter(start_at__date__lte=today + timedelta(days=27))
    }
    assert booked & before, (booked, sorted(before))

    # Then server B, asked a moment later, offers none of those times
    after = _offered(b, query)
    assert not booked & after, booked & after


class OwnerSession:
    """The owner signed in on one server (the API's session sign-in), then using the admin there. Its cookies are
    kept by hand: production's are Secure, which a cookie jar would not send over the loopback's plain HTTP."""

    def __init__(self, server: ProcessGroup):
        self.url = server.url
        self.cookies: dict[str, str] = {}

    def send(self, path: str, *, form: dict | None = None, json_body: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
        elif json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            response = urllib.request.build_opener(_NoRedirect).open(request, timeout=30)
        except urllib.error.HTTPError as error:  # a redirect, or a refusal
            response = error
        with response:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response.read().decode(errors="replace")

    def sign_in(self, email: str) -> "OwnerSession":
        assert self.send("/api/v1/auth/csrf/")[0] == 200
        status, body = self.send("/api/v1/auth/login/", json_body={"email": email, "password": PASSWORD})
        assert status == 200, body
        return self

    def news_send(self, news: SchoolNews) -> None:
        """The admin's "Send the selected news" action on one news."""
        form = {"action": "send_selected", "_selected_action": news.pk, "index": 0}
        status, page = self.send("/admin/accounts/schoolnews/", form=form)
        assert status == 302, page[:2000]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def news_readers(school) -> list:
    notice = privacy_notice_current()
    readers = [ParentFactory() for _ in range(READERS)]
    for parent in readers:
        marketing_consent_give(actor=parent, parent=parent, notice=notice)
    return readers


@pytest.fixture
def owner(school):
    """The school's owner, their password hashed as production hashes it (the suite's MD5 is not accepted there)."""
    owner = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    owner.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    owner.save(update_fields=["password"])
    return owner


def _settled(news: list[SchoolNews]) -> dict[str, int]:
    """The news emails' statuses once none is queued or sending (or SETTLE_SECONDS passed)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        statuses = Counter(
            EmailLog.objects.filter(related_id__in=[str(n.pk) for n in news], template="school_news").values_list(
                "status", flat=True
            )
        )
        if not (statuses[EmailLog.Status.QUEUED] or statuses[EmailLog.Status.SENDING]) or time.monotonic() > deadline:
            return dict(statuses)
        time.sleep(0.5)


def _delivered(sink: SmtpSink, news: list[SchoolNews]) -> Counter:
    subjects = {n.subject for n in news}
    return Counter((to, m.subject) for m in sink.delivered if m.subject in subjects for to in m.recipients)


def test_two_hundred_tasks_from_both_servers_each_run_once(cluster, servers, news_readers, owner):
    # Given two news, one sent by the owner through each server: 100 email tasks handed to the workers by each
    news = [SchoolNews.objects.create(subject=f"News {n} {uuid.uuid4().hex[:8]}", body="Recital.") for n in (1, 2)]
    for server, one in zip(servers, news, strict=True):
        OwnerSession(server).sign_in(owner.email).news_send(one)

    # When the workers have run them
    statuses = _settled(news)

    # Then each parent got each news once, and every row says sent
    delivered = _delivered(cluster.sink, news)
    expected = {(parent.email, one.subject): 1 for parent in news_readers for one in news}
    assert statuses == {EmailLog.Status.SENT: 2 * READERS}, statuses
    assert dict(delivered) == expected, set(delivered.items()) ^ set(expected.items())
    assert not TaskOutbox.objects.exists()


def test_a_worker_killed_mid_burst_loses_no_task(cluster, servers, news_readers, owner):
    # Given a news to 100 parents sent through server A, the two workers sending it
    news = SchoolNews.objects.create(subject=f"News {uuid.uuid4().hex[:8]}", body="Recital.")
    OwnerSession(servers[0]).sign_in(owner.email).news_send(news)
    sent = EmailLog.objects.filter(related_id=str(news.pk), status=EmailLog.Status.SENT)
    deadline = time.monotonic() + 60
    while sent.count() < READERS // 10:
        assert time.monotonic() < deadline, cluster.output()
        time.sleep(0.05)

    # When one worker is killed (SIGKILL, its whole process group) in the middle of the burst
    in_flight = READERS - sent.count()
    cluster.workers[0].kill()
    cluster.worker_restart(0)  # as a supervisor would start it again

    # Then every email is sent in the end, each once; one caught mid-send may be "unconfirmed", never sent twice
    statuses = _settled([news])
    delivered = _delivered(cluster.sink, [news])
    logged = dict(EmailLog.objects.filter(related_id=str(news.pk)).values_list("recipient", "status"))
    problems = [
        f"{to}: {status}, delivered {delivered[(to, news.subject)]}×"
        for to, status in logged.items()
        if not (
            (status == EmailLog.Status.SENT and delivered[(to, news.subject)] == 1)
            or (status == EmailLog.Status.UNCONFIRMED and delivered[(to, news.subject)] <= 1)
        )
    ]
    assert in_flight > 0 and len(logged) == READERS, (in_flight, statuses)
    assert not problems, f"{statuses}\n" + "\n".join(problems[:20])
