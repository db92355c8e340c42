"""Terms may not overlap: one rule, in `term_dates_validate` (scheduling.services), raising TermOverlap; the
exclusion constraint `term_no_overlap` has the last word, mapped to the same error. The admin and the API call it.
Two writers at the same moment: tests/reliability/test_schedule_races.py."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from scheduling.errors import TermOverlap
from scheduling.models import Term
from scheduling.services import term_create, term_update
from tests.factories import TermFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True))
    return client


def test_term_create_refuses_dates_sharing_a_day_with_another_term(fall):
    with pytest.raises(TermOverlap, match="These dates overlap Fall"):
        term_create(
            academic_year=fall.academic_year, name="Winter", start_date=date(2031, 12, 31), end_date=date(2032, 3, 31)
        )
    assert Term.objects.count() == 1


def test_term_create_and_update_keep_terms_that_touch_but_do_not_share_a_day(fall):
    winter = term_create(
        academic_year=fall.academic_year, name="Winter", start_date=date(2032, 1, 1), end_date=date(2032, 3, 31)
    )
    term_update(term=fall, end_date=date(2031, 12, 20))  # its own dates are no overlap
    with pytest.raises(TermOverlap):
        term_update(term=winter, start_date=date(2031, 12, 15))
    winter.refresh_from_db()
    assert winter.start_date == date(2032, 1, 1)


def admin_term_add(client, fall: Term, *, start: str, end: str):
    """The admin's "Add term" form for a Winter term, sent as the owner types it."""
    form = {
        "academic_year": fall.academic_year_id,
        "name": "Winter",
        "start_date": start,
        "end_date": end,
        "closures-TOTAL_FORMS": "0",
        "closures-INITIAL_FORMS": "0",
    }
    return client.post("/admin/scheduling/term/add/", form)


def test_the_admin_form_shows_the_overlap_once_and_keeps_what_was_typed(fall, owner_client):
    response = admin_term_add(owner_client, fall, start="2031-12-01", end="2032-03-31")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("These dates overlap Fall") == 1
    assert "overlaps another term" not in page
    assert 'value="Winter"' in page and 'value="2032-03-31"' in page
    assert Term.objects.count() == 1


def test_the_admin_saves_a_term_through_the_service(fall, owner_client):
    response = admin_term_add(owner_client, fall, start="2032-01-01", end="2032-03-31")
    assert response.status_code == 302
    assert Term.objects.filter(name="Winter", start_date=date(2032, 1, 1)).exists()


def test_the_api_answers_an_overlapping_term_with_the_one_error_body(fall, api):
    body = {
        "academic_year": fall.academic_year_id,
        "name": "Winter",
        "start_date": "2031-12-31",
        "end_date": "2032-03-31",
    }
    response = api.post("/api/v1/terms/", body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "term_overlap"
    assert "These dates overlap Fall" in response.json()["message"]
    assert Term.objects.count() == 1


def test_the_api_answers_a_term_moved_onto_another_with_the_one_error_body(fall, api):
    winter = TermFactory(
        academic_year=fall.academic_year, name="Winter", start_date=date(2032, 1, 1), end_date=date(2032, 3, 31)
    )
    response = api.patch(f"/api/v1/terms/{winter.pk}/", {"start_date": "2031-12-01"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "term_overlap"
    winter.refresh_from_db()
    assert winter.start_date == date(2032, 1, 1)
    ok = api.patch(f"/api/v1/terms/{winter.pk}/", {"name": "Winter term"}, format="json")
    assert ok.status_code == 200 and ok.json()["name"] == "Winter term"
