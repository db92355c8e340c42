"""Withdrawing a consent stops what depends on it the same minute (issue 18 §1): an email already queued asks
again when it is sent, so a reminder or a school news email queued before the parent withdrew is not sent."""

import pytest
from django.test import Client

from accounts.models import ReminderPreference, SchoolNews
from accounts.news import school_news_send
from accounts.services import marketing_consent_give, marketing_consent_withdraw, reminder_preferences_set
from cedarheights.emails import email_send
from cedarheights.models import EmailLog
from cedarheights.selectors import privacy_notice_current
from scheduling.reminders import lessons_tomorrow_send
from tests.factories import ParentFactory
from tests.reminders.helpers import book, day_from_today, local, second_parent, sent

pytestmark = pytest.mark.django_db


def test_a_reminder_queued_before_the_parent_turned_its_kind_off_is_not_sent(week, mailoutbox):
    """Made to fail: without the check at send time, both parents got the reminder the one had turned off."""
    other_parent = second_parent(week.parent.family)
    book(week, local(day_from_today(1), 16))
    lessons_tomorrow_send(now=local(day_from_today(0), 17))
    [withdrawn, kept] = [sent("lessons_tomorrow", to=p.email)[0] for p in (week.parent, other_parent)]

    reminder_preferences_set(
        user=week.parent, choices={ReminderPreference.Kind.LESSONS_TOMORROW: False}, actor=week.parent
    )
    for log in (withdrawn, kept):  # the worker runs the send tasks queued before the change
        email_send(log.pk)

    assert [message.to for message in mailoutbox] == [[other_parent.email]]
    withdrawn.refresh_from_db()
    kept.refresh_from_db()
    assert withdrawn.status == EmailLog.Status.WITHDRAWN and kept.status == EmailLog.Status.SENT


@pytest.fixture
def news_readers(db):
    notice = privacy_notice_current()
    readers = [ParentFactory(), ParentFactory()]
    for parent in readers:
        marketing_consent_give(actor=parent, parent=parent, notice=notice)
    never = ParentFactory()
    return readers, never


def test_school_news_goes_only_to_parents_opted_in_and_not_to_one_who_withdrew_after_it_was_queued(
    news_readers, mailoutbox
):
    (stays, leaves), never = news_readers
    news = SchoolNews.objects.create(subject="Recital", body="Sign-ups are open.")

    assert school_news_send(actor=None, news=news) == 2
    marketing_consent_withdraw(actor=leaves, parent=leaves)
    for log in EmailLog.objects.filter(template="school_news"):
        email_send(log.pk)

    assert sorted(log.recipient for log in EmailLog.objects.filter(template="school_news")) == sorted(
        [stays.email, leaves.email]
    )  # never opted in: nothing queued
    assert [message.to for message in mailoutbox] == [[stays.email]]
    assert EmailLog.objects.get(recipient=leaves.email).status == EmailLog.Status.WITHDRAWN
    assert never.email not in {log.recipient for log in EmailLog.objects.all()}


def test_the_owner_sends_the_news_from_the_admin_once(news_readers, owner_client):
    news = SchoolNews.objects.create(subject="Recital", body="Sign-ups are open.")
    action = {"action": "send_selected", "_selected_action": [news.pk]}

    owner_client.post("/admin/accounts/schoolnews/", action)
    again = owner_client.post("/admin/accounts/schoolnews/", action, follow=True)

    assert EmailLog.objects.filter(template="school_news").count() == 2
    assert "was sent on" in again.content.decode()
    news.refresh_from_db()
    assert news.sent_at is not None and news.sent_by.email == "owner@example.com"


def test_stopping_the_news_from_the_portal_stops_a_news_email_already_queued(news_readers, mailoutbox):
    (stays, leaves), _ = news_readers
    school_news_send(actor=None, news=SchoolNews.objects.create(subject="Recital", body="Sign-ups are open."))
    client = Client()
    client.force_login(leaves)

    client.post("/family/privacy/", {"choice": "marketing_withdraw"})
    for log in EmailLog.objects.filter(template="school_news"):
        email_send(log.pk)

    assert [message.to for message in mailoutbox] == [[stays.email]]
