"""The calendar link pages: a parent's (/family/calendar/), a teacher's (/teach/calendar/) and the owner's
whole-school one in the admin, with the admin's list of everyone's links. The link is shown once, right after it is
made; a new link or turning it off makes the old address a 404 at /cal/."""

import html
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cedarheights.models import AuditEvent
from scheduling.calendar_feeds import calendar_feed_issue, calendar_feed_revoke
from scheduling.models import CalendarFeed

pytestmark = pytest.mark.django_db

FAMILY_PAGE = "/family/calendar/"
TEACHER_PAGE = "/teach/calendar/"
LINK_IN_PAGE = re.compile(r'id="calendar-url" type="text" value="(?P<url>[^"]+)"')


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def shown_link(response) -> str | None:
    """The https link the page shows in its copy box, if it shows one."""
    found = LINK_IN_PAGE.search(text(response))
    return found["url"] if found else None


def feed_status(client: Client, url: str) -> int:
    """What /cal/ answers for a link the page showed (the site's address taken off)."""
    return client.get(urlsplit(url).path).status_code


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_parent_without_a_link_is_told_what_it_is_and_offered_one_button(week):
    page = client_of(week.parent).get(FAMILY_PAGE)

    assert page.status_code == 200
    said = text(page)
    assert "puts your family's lessons in your phone's or computer's calendar" in said
    assert "Create my calendar link" in said
    assert "Get a new link" not in said and shown_link(page) is None


def test_a_parent_creates_the_link_sees_it_once_and_it_serves_the_familys_lessons(week):
    week.lesson_in(hours=72)
    parent = client_of(week.parent)

    made = parent.post(FAMILY_PAGE, {"action": "create"})
    assert made.status_code == 302 and made["Location"] == FAMILY_PAGE
    shown = parent.get(FAMILY_PAGE)
    url = shown_link(shown)

    feed = CalendarFeed.objects.get(holder=week.parent)
    assert (feed.scope, feed.family_id, feed.revoked_at) == ("family", week.parent.family_id, None)
    assert url is not None and f'href="webcal://{url.split("://", 1)[1]}"' in text(shown)
    assert "Add to my calendar" in text(shown) and "shown only this once" in text(shown)
    assert "changes to a lesson within 48 hours are also emailed to you" in text(shown)
    assert messages_of(shown) == ["Your calendar link is ready."]
    assert feed_status(Client(), url) == 200
    # The page never shows it again: only its hash is kept, and the one display was popped from the session.
    again = parent.get(FAMILY_PAGE)
    assert shown_link(again) is None and url.rsplit("/", 1)[1].removesuffix(".ics") not in text(again)
    made_on = timezone.localtime(feed.created_at)
    assert f"Your calendar link was made on {made_on:%-d %b %Y}. For your safety it is shown only once." in (
        text(again)
    )
    assert feed_status(Client(), url) == 200


def test_a_new_link_replaces_the_old_one_whose_address_is_then_a_404(week):
    parent = client_of(week.parent)
    parent.post(FAMILY_PAGE, {"action": "create"})
    old = shown_link(parent.get(FAMILY_PAGE))

    parent.post(FAMILY_PAGE, {"action": "rotate"})
    page = parent.get(FAMILY_PAGE)
    new = shown_link(page)

    assert new is not None and new != old
    assert feed_status(Client(), old) == 404 and feed_status(Client(), new) == 200
    assert CalendarFeed.objects.filter(holder=week.parent, revoked_at__isnull=True).count() == 1
    assert "The old one has stopped working" in messages_of(page)[0]


def test_turning_the_link_off_makes_it_a_404_and_offers_a_new_one_and_twice_says_it_is_off(week):
    parent = client_of(week.parent)
    parent.post(FAMILY_PAGE, {"action": "create"})
    url = shown_link(parent.get(FAMILY_PAGE))

    parent.post(FAMILY_PAGE, {"action": "off"})
    page = parent.get(FAMILY_PAGE)
    assert feed_status(Client(), url) == 404
    assert "Create my calendar link" in text(page)
    assert messages_of(page) == ["Your calendar link is turned off: calendars that used it get no more updates."]

    parent.post(FAMILY_PAGE, {"action": "off"})
    assert messages_of(parent.get(FAMILY_PAGE)) == ["Your calendar link is already off."]
    assert AuditEvent.objects.filter(object_type__model="calendarfeed", action="update").count() == 1


def test_a_link_replaced_in_another_tab_before_the_page_showed_it_is_not_shown(week):
    """Made to fail: without the check that the shown link is the live one, the dead address was shown."""
    parent = client_of(week.parent)
    parent.post(FAMILY_PAGE, {"action": "create"})
    calendar_feed_issue(holder=week.parent, scope="family", actor=week.parent)  # the other tab

    page = parent.get(FAMILY_PAGE)

    assert shown_link(page) is None and "was made on" in text(page)


def test_an_unknown_action_changes_nothing_and_says_what_to_choose(week):
    parent = client_of(week.parent)

    answer = parent.post(FAMILY_PAGE, {"action": "delete-everything"}, follow=True)

    assert messages_of(answer) == ["Choose to create, replace or turn off your calendar link."]
    assert not CalendarFeed.objects.exists()


def test_a_teacher_creates_their_own_link_from_the_teachers_pages(week):
    teacher = client_of(week.teacher.user)
    assert 'href="/teach/calendar/"' in text(teacher.get("/teach/"))

    teacher.post(TEACHER_PAGE, {"action": "create"})
    page = teacher.get(TEACHER_PAGE)

    feed = CalendarFeed.objects.get(holder=week.teacher.user)
    assert (feed.scope, feed.teacher_id) == ("teacher", week.teacher.pk)
    assert "puts your lessons in your phone's" in text(page)
    assert feed_status(Client(), shown_link(page)) == 200


def test_each_page_refuses_the_other_roles_as_their_portal_does(week):
    teacher, parent = client_of(week.teacher.user), client_of(week.parent)
    owner = client_of(User.objects.create_superuser("owner@example.com", "an-owner-password-1"))

    assert teacher.get(FAMILY_PAGE).status_code == 404
    assert teacher.post(FAMILY_PAGE, {"action": "create"}).status_code == 404
    assert parent.get(TEACHER_PAGE).status_code == 404
    assert parent.post(TEACHER_PAGE, {"action": "create"}).status_code == 404
    assert owner.get(FAMILY_PAGE)["Location"] == reverse("admin:index")
    assert Client().get(FAMILY_PAGE)["Location"].startswith(reverse("login"))
    assert Client().post(TEACHER_PAGE, {"action": "create"})["Location"].startswith(reverse("login"))
    assert not CalendarFeed.objects.exists()


def test_the_family_home_and_the_header_link_the_calendar_page(week):
    home = text(client_of(week.parent).get("/family/"))

    assert home.count(f'href="{FAMILY_PAGE}"') == 2  # the header's "Calendar" and the home's own link


# The owner's admin


def test_the_admin_lists_every_link_live_or_not_filters_and_searches_them(week, owner_client):
    family_feed, _ = calendar_feed_issue(holder=week.parent, scope="family", actor=week.parent)
    teacher_feed, _ = calendar_feed_issue(holder=week.teacher.user, scope="teacher", actor=week.teacher.user)
    calendar_feed_revoke(feed=teacher_feed, actor=week.teacher.user)
    changelist = reverse("admin:scheduling_calendarfeed_changelist")

    page = owner_client.get(changelist)
    assert page.status_code == 200
    rows = list(page.context["cl"].result_list)
    assert set(rows) == {family_feed, teacher_feed}
    assert "Get my whole-school calendar link" in text(page)
    assert list(owner_client.get(changelist, {"live": "yes"}).context["cl"].result_list) == [family_feed]
    assert list(owner_client.get(changelist, {"live": "no"}).context["cl"].result_list) == [teacher_feed]
    searched = owner_client.get(changelist, {"q": week.parent.family.name})
    assert list(searched.context["cl"].result_list) == [family_feed]
    # Read-only: no link is made or edited here (the hash is never shown).
    assert owner_client.get(reverse("admin:scheduling_calendarfeed_add")).status_code == 403
    detail = owner_client.get(reverse("admin:scheduling_calendarfeed_change", args=[family_feed.pk]))
    assert detail.status_code == 200 and family_feed.token_hash not in text(detail)


def test_the_admins_revoke_action_turns_the_selected_links_off_and_says_how_many(week, owner_client):
    family_feed, family_token = calendar_feed_issue(holder=week.parent, scope="family", actor=week.parent)
    teacher_feed, _ = calendar_feed_issue(holder=week.teacher.user, scope="teacher", actor=week.teacher.user)
    calendar_feed_revoke(feed=teacher_feed, actor=week.teacher.user)

    answer = owner_client.post(
        reverse("admin:scheduling_calendarfeed_changelist"),
        {"action": "revoke_selected", "_selected_action": [family_feed.pk, teacher_feed.pk]},
        follow=True,
    )

    assert messages_of(answer) == [
        "1 calendar link(s) revoked: calendars that used them get no more updates. "
        "1 of those selected were already off."
    ]
    family_feed.refresh_from_db()
    assert family_feed.revoked_at is not None
    assert Client().get(f"/cal/{family_token}.ics").status_code == 404


def test_the_owner_gets_their_whole_school_link_once_from_the_admin(week, owner_client):
    week.lesson_in(hours=30)
    my_link = reverse("admin:scheduling_calendarfeed_my_link")
    assert "Create my calendar link" in text(owner_client.get(my_link))

    made = owner_client.post(my_link, {"action": "create"})
    shown = owner_client.get(my_link)
    url = shown_link(shown)

    assert made["Location"] == my_link
    feed = CalendarFeed.objects.get(scope="school")
    assert feed.holder.email == "owner@example.com"
    assert "puts every lesson of the school in your phone's" in text(shown)
    # The owner is not emailed lesson changes: the page does not promise it.
    assert "Google Calendar may take up to a day to show a change." in text(shown)
    assert "also emailed to you" not in text(shown)
    assert feed_status(Client(), url) == 200
    assert shown_link(owner_client.get(my_link)) is None
