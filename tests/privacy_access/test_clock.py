"""The access request's clock: due 30 calendar days after receipt (60 once extended), a warning from day 20, overdue
after the due day; around month ends (31 January, 28 and 29 February) with years relative to today; and the one
extension PIPEDA allows, within the first 30 days, with its notice to the family."""

import calendar
from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.errors import AccessRequestRefused
from accounts.models import AccessRequest
from accounts.privacy_requests import access_request_answer, access_request_extend, access_request_log
from cedarheights.errors import InvalidInput
from cedarheights.selectors import school_today

pytestmark = pytest.mark.django_db


def _last_year_that(is_leap: bool) -> int:
    """The latest year before this one that is (or is not) a leap year: a date in it never expires."""
    year = school_today().year - 1
    while calendar.isleap(year) != is_leap:
        year -= 1
    return year


def test_a_request_received_on_31_january_is_due_on_2_march_in_a_common_year():
    year = _last_year_that(is_leap=False)
    request = AccessRequest(received_on=date(year, 1, 31))
    assert request.due_on == date(year, 3, 2)


def test_a_request_received_on_31_january_is_due_on_1_march_in_a_leap_year():
    year = _last_year_that(is_leap=True)
    request = AccessRequest(received_on=date(year, 1, 31))
    assert request.due_on == date(year, 3, 1)


@pytest.mark.parametrize(
    ("is_leap", "received", "due"), [(False, (2, 28), (3, 30)), (True, (2, 29), (3, 30)), (True, (2, 28), (3, 29))]
)
def test_the_end_of_february_counts_calendar_days(is_leap, received, due):
    year = _last_year_that(is_leap=is_leap)
    assert AccessRequest(received_on=date(year, *received)).due_on == date(year, *due)


def test_an_extended_request_received_at_the_end_of_january_is_due_60_days_later():
    year = _last_year_that(is_leap=False)
    request = AccessRequest(received_on=date(year, 1, 31), extended_at=timezone.now())
    assert request.due_on == date(year, 4, 1)


def test_days_left_warning_and_overdue_follow_the_days_since_receipt():
    today = school_today()
    day_19, day_20, day_31 = (AccessRequest(received_on=today - timedelta(days=n)) for n in (19, 20, 31))

    assert (day_19.days_left(today), day_19.needs_warning(today), day_19.is_overdue(today)) == (11, False, False)
    assert (day_20.days_left(today), day_20.needs_warning(today), day_20.is_overdue(today)) == (10, True, False)
    assert (day_31.days_left(today), day_31.is_overdue(today)) == (-1, True)
    assert not AccessRequest(received_on=today - timedelta(days=30)).is_overdue(today)  # due today


@pytest.fixture
def logged(school, owner, family):
    def log(days_ago: int) -> AccessRequest:
        return access_request_log(
            actor=owner,
            family=family,
            channel=AccessRequest.Channel.EMAIL,
            received_on=school_today() - timedelta(days=days_ago),
        )

    return log


@pytest.fixture
def family(week):
    return week.parent.family


def test_the_extension_on_day_30_adds_30_days_and_emails_the_family_the_date_reason_and_commissioner(
    logged, owner, week, mailoutbox, django_capture_on_commit_callbacks
):
    request = logged(30)
    with django_capture_on_commit_callbacks(execute=True):
        extended = access_request_extend(actor=owner, access_request=request, reason="Records are in storage.")

    assert extended.due_on == school_today() + timedelta(days=30) and extended.extended_at is not None
    [email] = mailoutbox
    assert email.to == [week.parent.email]
    assert f"{extended.due_on:%-d %B %Y}" in email.body
    assert "Records are in storage." in email.body
    assert "Privacy Commissioner of Canada" in email.body


def test_no_extension_after_the_first_30_days(logged, owner):
    request = logged(31)
    with pytest.raises(AccessRequestRefused, match="first 30 days"):
        access_request_extend(actor=owner, access_request=request, reason="Too late")
    request.refresh_from_db()
    assert request.extended_at is None


def test_a_request_is_extended_once_only(logged, owner):
    request = logged(5)
    access_request_extend(actor=owner, access_request=request, reason="Records are in storage.")
    with pytest.raises(AccessRequestRefused, match="extended already"):
        access_request_extend(actor=owner, access_request=request, reason="Again")


def test_an_extension_needs_a_reason(logged, owner):
    request = logged(5)
    with pytest.raises(InvalidInput) as refused:
        access_request_extend(actor=owner, access_request=request, reason="  ")
    assert "reason" in refused.value.fields


def test_an_answered_request_is_neither_extended_nor_answered_again(logged, owner):
    request = logged(3)
    access_request_answer(actor=owner, access_request=request, answered_on=school_today(), note="Export downloaded")
    with pytest.raises(AccessRequestRefused):
        access_request_extend(actor=owner, access_request=request, reason="Late")
    with pytest.raises(AccessRequestRefused):
        access_request_answer(actor=owner, access_request=request, answered_on=school_today())


def test_an_answer_is_dated_between_receipt_and_today(logged, owner):
    request = logged(3)
    with pytest.raises(InvalidInput):
        access_request_answer(actor=owner, access_request=request, answered_on=request.received_on - timedelta(days=1))
    with pytest.raises(InvalidInput):
        access_request_answer(actor=owner, access_request=request, answered_on=school_today() + timedelta(days=1))


def test_a_request_is_not_logged_for_a_day_still_to_come(school, owner, family):
    with pytest.raises(InvalidInput) as refused:
        access_request_log(actor=owner, family=family, channel="phone", received_on=school_today() + timedelta(days=1))
    assert "received_on" in refused.value.fields
