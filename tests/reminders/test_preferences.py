"""Reminder preferences (issue 16 §3): each person turns off each reminder kind their role gets, from their profile
or the API; the choice and its time are recorded (an audit event each), only when it changes. A person sees and
changes only their own."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ReminderPreference, User
from accounts.selectors import reminder_kinds_for, reminder_preferences_of
from accounts.services import reminder_preferences_set
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from tests.factories import ParentFactory, TeacherFactory, UserFactory
from tests.scheduling.test_outcomes import TORONTO

pytestmark = pytest.mark.django_db

Kind = ReminderPreference.Kind
URL = "/api/v1/reminder-preferences/"


@pytest.fixture
def parent(school) -> User:
    return ParentFactory()


@pytest.fixture
def teacher(school) -> User:
    return TeacherFactory().user


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def turned(user) -> dict[str, bool]:
    return {choice.kind: choice.enabled for choice in reminder_preferences_of(user)}


# The service and its selector


def test_each_role_gets_its_own_kinds_and_the_owner_none(parent, teacher):
    owner = UserFactory(role=User.Role.ADMIN, is_staff=True)

    assert reminder_kinds_for(parent) == (Kind.LESSONS_TOMORROW, Kind.CANCEL_WINDOW)
    assert reminder_kinds_for(teacher) == (Kind.TEACHING_TOMORROW,)
    assert reminder_kinds_for(owner) == ()
    assert turned(parent) == {Kind.LESSONS_TOMORROW: True, Kind.CANCEL_WINDOW: True}  # no row: on


def test_a_choice_is_recorded_with_its_time_and_an_audit_event_only_when_it_changes(parent):
    reminder_preferences_set(user=parent, choices={Kind.LESSONS_TOMORROW: True}, actor=parent)  # already on
    assert not ReminderPreference.objects.exists() and not AuditEvent.objects.exists()

    reminder_preferences_set(user=parent, choices={Kind.CANCEL_WINDOW: False}, actor=parent)
    row = ReminderPreference.objects.get()
    first_changed = row.changed_at
    reminder_preferences_set(user=parent, choices={Kind.CANCEL_WINDOW: False}, actor=parent)  # the same again

    row.refresh_from_db()
    assert (row.user, row.kind, row.enabled, row.changed_at) == (parent, Kind.CANCEL_WINDOW, False, first_changed)
    [event] = AuditEvent.objects.all()
    assert (event.actor, event.action, event.changes) == (parent, "update", {"enabled": [True, False]})
    assert turned(parent) == {Kind.LESSONS_TOMORROW: True, Kind.CANCEL_WINDOW: False}

    choices = reminder_preferences_set(user=parent, choices={Kind.CANCEL_WINDOW: True}, actor=parent)
    assert [choice.enabled for choice in choices] == [True, True]
    assert ReminderPreference.objects.get().changed_at > first_changed
    assert AuditEvent.objects.count() == 2


def test_a_kind_the_person_does_not_get_is_refused_and_nothing_is_written(parent, teacher):
    with pytest.raises(InvalidInput) as refused:
        reminder_preferences_set(
            user=teacher, choices={Kind.TEACHING_TOMORROW: False, Kind.LESSONS_TOMORROW: False}, actor=teacher
        )

    assert refused.value.fields == {Kind.LESSONS_TOMORROW: ["Not a reminder you get."]}
    assert not ReminderPreference.objects.exists()


# The API


def test_the_api_lists_the_signed_in_persons_own_kinds(parent, teacher):
    reminder_preferences_set(user=parent, choices={Kind.CANCEL_WINDOW: False}, actor=parent)
    owner = UserFactory(role=User.Role.ADMIN, is_staff=True)

    as_parent = api_as(parent).get(URL).json()
    as_teacher = api_as(teacher).get(URL).json()

    assert [(row["kind"], row["enabled"]) for row in as_parent["results"]] == [
        ("lessons_tomorrow", True),
        ("cancel_window", False),
    ]
    assert as_parent["results"][0]["changed_at"] is None and as_parent["results"][1]["changed_at"]
    assert [(row["kind"], row["enabled"]) for row in as_teacher["results"]] == [("teaching_tomorrow", True)]
    assert api_as(owner).get(URL).json()["count"] == 0
    assert APIClient().get(URL).status_code in {401, 403}


def test_patch_turns_ones_own_kind_off_and_on(parent):
    off = api_as(parent).patch(f"{URL}cancel_window/", {"enabled": False}, format="json")
    unchanged = api_as(parent).patch(f"{URL}cancel_window/", {}, format="json")
    on = api_as(parent).patch(f"{URL}cancel_window/", {"enabled": True}, format="json")

    assert off.status_code == 200 and off.json()["enabled"] is False and off.json()["changed_at"]
    assert unchanged.status_code == 200 and unchanged.json()["enabled"] is False
    assert on.json()["enabled"] is True
    assert AuditEvent.objects.filter(object_type__model="reminderpreference").count() == 2


def test_another_persons_choices_can_be_neither_read_nor_changed(parent):
    """There is no user in the address: each person reaches their own choices only."""
    neighbour = ParentFactory()
    api_as(parent).patch(f"{URL}lessons_tomorrow/", {"enabled": False}, format="json")

    theirs = api_as(neighbour).get(URL).json()["results"]
    api_as(neighbour).patch(f"{URL}cancel_window/", {"enabled": False}, format="json")

    assert {row["kind"]: row["enabled"] for row in theirs} == {"lessons_tomorrow": True, "cancel_window": True}
    assert turned(parent) == {Kind.LESSONS_TOMORROW: False, Kind.CANCEL_WINDOW: True}


@pytest.mark.parametrize("kind", ["teaching_tomorrow", "no_such_kind"])
def test_a_kind_not_ones_own_or_unknown_is_a_404_in_the_error_shape(parent, kind):
    response = api_as(parent).patch(f"{URL}{kind}/", {"enabled": False}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and response.json()["message"]
    assert not ReminderPreference.objects.exists()


def test_bad_input_is_a_400_naming_the_field(parent):
    response = api_as(parent).patch(f"{URL}cancel_window/", {"enabled": "maybe", "user": 3}, format="json")

    assert response.status_code == 400
    assert {"enabled", "user"} <= set(response.json()["fields"])
    assert not ReminderPreference.objects.exists()


# The profile page


def test_the_profile_shows_a_checkbox_per_kind_and_says_change_notices_always_go(parent, teacher):
    page = page_as(parent).get("/accounts/profile/").content.decode()
    teachers = page_as(teacher).get("/accounts/profile/").content.decode()
    owners = page_as(UserFactory(role=User.Role.ADMIN, is_staff=True)).get("/accounts/profile/").content.decode()

    assert "Reminder emails" in page and 'action="/accounts/profile/reminders/"' in page
    assert 'name="lessons_tomorrow"' in page and 'name="cancel_window"' in page and "checked" in page
    assert 'name="teaching_tomorrow"' in teachers and 'name="lessons_tomorrow"' not in teachers
    assert 'action="/accounts/profile/reminders/"' not in owners
    assert all("cannot be turned off" in text for text in (page, teachers, owners))


def test_the_profile_form_records_the_choice_and_shows_when(parent):
    client = page_as(parent)

    response = client.post("/accounts/profile/reminders/", {"lessons_tomorrow": "on"})  # the nudge unticked

    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert turned(parent) == {Kind.LESSONS_TOMORROW: True, Kind.CANCEL_WINDOW: False}
    changed = ReminderPreference.objects.get(kind=Kind.CANCEL_WINDOW).changed_at.astimezone(TORONTO)
    page = client.get("/accounts/profile/").content.decode()
    assert f"You turned this off on {changed:%-d %b %Y} at {changed:%-I:%M %p}." in page
    assert "Your reminder emails are saved." in page
    assert ReminderPreference.objects.count() == 1  # the kind left on was never written


def test_the_reminders_address_takes_a_post_only(parent):
    assert page_as(parent).get("/accounts/profile/reminders/").status_code == 405
    assert Client().post("/accounts/profile/reminders/", {}).status_code == 302  # to sign in
