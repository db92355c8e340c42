"""The fee a parent sees before enrolling (the enrollment page: a term-priced plan's monthly fee this term, by lesson
day) and after (the confirmation and the welcome email: the exact figure for the weekly time booked)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from enrollment.forms import ParentForm
from enrollment.tuition import term_billing_months, term_for_enrolling
from scheduling.models import Closure, Term
from tests.enrollment.test_page import confirmation_link, page_data
from tests.factories import ParentFactory, TuitionPlanFactory
from tests.school import school_ready  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
MONDAY, WEDNESDAY = 0, 2
RATE = "$35.00 CAD"


@pytest.fixture
def ready(school_ready):  # noqa: F811
    """The small school (a teacher on Mondays and Wednesdays), its plan priced by the term at $35 a lesson, and a
    school holiday on a Monday of the term."""
    plan = school_ready["plan"]
    plan.lesson_rate_cents = 3_500
    plan.save(update_fields=["lesson_rate_cents"])
    term = Term.objects.get()
    holiday = term.start_date + timedelta(days=(MONDAY - term.start_date.weekday()) % 7 + 35)
    Closure.objects.create(reason="Holiday", start_date=holiday, end_date=holiday)
    return {**school_ready, "term": term}


def lessons_on(term: Term, weekday: int) -> int:
    """Counted here the plain way: the term's days on `weekday`, without the school's closures."""
    closed = {c.start_date for c in Closure.objects.filter(teacher__isnull=True)}
    days = (term.start_date + timedelta(days=n) for n in range((term.end_date - term.start_date).days + 1))
    return sum(1 for day in days if day.weekday() == weekday and day not in closed)


def monthly(term: Term, lessons: int) -> str:
    cents = round(3_500 * lessons / len(term_billing_months(term=term)))
    return f"${cents // 100:,}.{cents % 100:02d} CAD"


def fee_item(page: str, plan) -> str:
    item = re.search(rf'<li data-plan="{plan.pk}".*?</li>', page, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item.split(">", 1)[1]))


def test_before_a_day_is_given_the_page_shows_the_range_over_the_days_lessons_are_taught(ready, client):
    """Made to fail by leaving out the school's holiday (the Monday figure then counts one lesson more)."""
    term = ready["term"]
    mondays, wednesdays = lessons_on(term, MONDAY), lessons_on(term, WEDNESDAY)
    months = len(term_billing_months(term=term))
    response = client.get("/enroll/")
    text = fee_item(response.content.decode(), ready["plan"])
    low, high = sorted([mondays, wednesdays])
    if low == high:
        assert f"{monthly(term, low)} a month this term — {low} lessons at {RATE} over {months} months" in text
    else:
        assert (
            f"{monthly(term, low)} to {monthly(term, high)} a month this term, by your lesson day — {low} to {high} "
            f"lessons at {RATE} over {months} months (holidays and five-week months averaged in)"
        ) in text
    # Each day's figure is on the page for the script that follows the family's first weekly time.
    assert f'data-day-0="{monthly(term, mondays)} a month this term — {mondays} lessons' in response.content.decode()


def test_once_the_family_gave_a_first_weekly_time_the_page_shows_that_days_figure(ready, client):
    term = ready["term"]
    mondays = lessons_on(term, MONDAY)
    data = page_data(ready, consent="", **{"windows-0-weekday": str(MONDAY)})  # an error: the page comes back
    response = client.post("/enroll/", data)
    text = fee_item(response.content.decode(), ready["plan"])
    assert response.status_code == 200 and response.context["details"].errors["consent"]
    assert f"{monthly(term, mondays)} a month this term — {mondays} lessons at {RATE}" in text
    assert "for a Monday lesson (holidays and five-week months averaged in)" in text


def test_plans_not_priced_by_the_term_show_their_price_and_the_page_reads_in_few_queries(
    ready, client, django_assert_max_num_queries
):
    """Made to fail by quoting plan by plan (each its term, closures and teachers' days)."""
    from billing.services.catalog import catalog_sync

    TuitionPlanFactory(name="Piano, per lesson", basis="per_lesson", price_cents=4_000, instrument=ready["piano"])
    TuitionPlanFactory(name="Piano, fixed", price_cents=15_000, instrument=ready["piano"])
    for n in range(3):
        TuitionPlanFactory(name=f"Piano by the term {n}", price_cents=1, lesson_rate_cents=3_000 + n)
    catalog_sync()
    with django_assert_max_num_queries(12):
        page = client.get("/enroll/").content.decode()
    assert "$40.00 CAD a lesson, billed each month for the month&#x27;s lessons" in page
    assert "$150.00 CAD a month" in page
    assert page.count("a month this term") >= 4


def test_the_confirmation_and_the_welcome_email_give_the_exact_figure_for_the_weekly_time_booked(
    ready, django_capture_on_commit_callbacks
):
    """The demo lesson's day becomes the weekly time: its term's lessons that day, its teacher's closures too."""
    term = ready["term"]
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/enroll/", page_data(ready), follow=True)
    assert response.redirect_chain[-1][0] == "/enroll/check-your-email/"
    [welcome] = [m for m in mail.outbox if m.to == ["maya@example.com"]]
    page = client.get(confirmation_link(welcome)).content.decode()
    weekly = ready["teacher"].weekly_lessons.get()
    assert term_for_enrolling(on=weekly.starts_on) == term
    day = weekly.get_weekday_display()
    expected = f"{monthly(term, lessons_on(term, weekly.weekday))} a month this term — "
    assert f"{expected}{lessons_on(term, weekly.weekday)} lessons at {RATE}" in page
    assert f"for a {day} lesson (holidays and five-week months averaged in)" in page
    assert expected in welcome.body and "The first month is charged for its lessons from the first one." in welcome.body
    html = welcome.alternatives[0][0]
    assert expected in html


def test_a_signed_in_parent_sees_the_figure_on_the_confirmation_at_once(ready):
    client = Client()
    client.force_login(ParentFactory())
    data = {k: v for k, v in page_data(ready).items() if k not in ParentForm.base_fields}
    page = client.post("/enroll/", data, follow=True).content.decode()
    assert "a month this term — " in page and f"lessons at {RATE}" in page
