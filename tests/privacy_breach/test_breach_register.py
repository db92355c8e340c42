from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import DatabaseError, transaction

from accounts.breach_notices import breach_commissioner_notice_draft, breach_people_notice_draft
from accounts.breaches import real_risk_of_significant_harm
from accounts.models import Breach
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import school_settings_update
from tests.factories import FamilyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school")]


def breach_discovered(on, **fields) -> Breach:
    values = {
        "summary": "A laptop with the class lists was stolen",
        "circumstances": "Taken from a teacher's car.",
        "occurred_on": on,
        "discovered_on": on,
        "information_involved": "Children's names, birth dates and lesson times",
        "people_involved": "The piano students and their parents",
        "people_affected_estimate": 42,
        "sensitivity": Breach.Level.HIGH,
        "sensitivity_factors": "Children's birth dates",
        "probability": Breach.Level.MEDIUM,
        "probability_factors": "Stolen, not encrypted",
        "actions_taken": "Passwords changed; police report filed.",
    }
    return Breach.objects.create(**{**values, **fields})


@pytest.mark.parametrize(
    ("sensitivity", "probability", "real_risk"),
    [
        ("low", "low", False),
        ("low", "high", False),
        ("high", "low", False),
        ("medium", "medium", True),
        ("medium", "high", True),
        ("high", "medium", True),
        ("high", "high", True),
    ],
)
def test_a_real_risk_of_significant_harm_needs_both_sensitivity_and_probability_at_least_medium(
    sensitivity, probability, real_risk
):
    assert real_risk_of_significant_harm(sensitivity=sensitivity, probability=probability) is real_risk
    breach = breach_discovered(school_today(), sensitivity=sensitivity, probability=probability)
    assert breach.real_risk_of_significant_harm is real_risk


@pytest.mark.postgres
def test_the_database_refuses_to_delete_a_breach_discovered_within_24_months():
    # Two days inside: the database counts from its own (UTC) date, a day off the school's around midnight.
    young = breach_discovered(school_today() - relativedelta(months=24) + timedelta(days=2))

    with pytest.raises(DatabaseError), transaction.atomic():
        Breach.objects.filter(pk=young.pk).delete()

    assert Breach.objects.filter(pk=young.pk).exists()


@pytest.mark.postgres
def test_the_database_lets_a_breach_go_once_24_months_have_passed():
    old = breach_discovered(school_today() - relativedelta(months=24) - timedelta(days=2))

    old.delete()

    assert not Breach.objects.filter(pk=old.pk).exists()


def test_the_admin_offers_no_delete_before_24_months_and_does_after(owner_client):
    young = breach_discovered(school_today() - relativedelta(months=23))
    old = breach_discovered(school_today() - relativedelta(months=25))

    refused = owner_client.get(f"/admin/accounts/breach/{young.pk}/delete/")
    page = owner_client.get(refused.url).content.decode()
    offered = owner_client.get(f"/admin/accounts/breach/{old.pk}/delete/")
    listed = owner_client.get("/admin/accounts/breach/")

    assert refused.status_code == 302 and refused.url == f"/admin/accounts/breach/{young.pk}/change/"
    kept = f"{young.kept_until:%-d %B %Y}"
    assert f"This breach is kept until {kept} (24 months after its discovery)" in page
    assert f"{kept} (24 months after discovery)" in page  # and on the page itself, in the Dates
    assert Breach.objects.filter(pk=young.pk).exists()
    assert offered.status_code == 200
    assert b"delete_selected" not in listed.content  # no bulk delete around the check


def test_the_notices_are_drafted_from_the_templates_with_the_privacy_officer():
    school_settings_update(
        school_settings=school_settings_get(),
        privacy_officer_name="Amira Haddad",
        privacy_officer_email="privacy@cedarheights.test",
    )
    breach = breach_discovered(school_today() - timedelta(days=3), contained_on=school_today() - timedelta(days=2))

    to_commissioner = breach_commissioner_notice_draft(breach=breach)
    to_people = breach_people_notice_draft(breach=breach)

    assert "Amira Haddad, Privacy officer, privacy@cedarheights.test" in to_commissioner
    assert "Number of people affected (estimate): 42" in to_commissioner
    assert "real risk of significant harm: yes" in to_commissioner
    assert "Children's names, birth dates and lesson times" in to_people  # not HTML-escaped: plain text
    assert "Passwords changed; police report filed." in to_people
    assert "Privacy Commissioner of Canada" in to_people and "privacy@cedarheights.test" in to_people


def test_the_officer_defaults_to_the_owner_and_the_schools_contact_email(owner_client):
    breach = breach_discovered(school_today())

    draft = breach_commissioner_notice_draft(breach=breach)

    contact = school_settings_get().contact_email
    assert f", Privacy officer, {contact}" in draft


def test_the_change_page_prefills_the_notices_and_keeps_what_the_owner_recorded(owner_client):
    breach = breach_discovered(school_today() - timedelta(days=1))
    family = FamilyFactory(name="Nguyen family")

    page = owner_client.get(f"/admin/accounts/breach/{breach.pk}/change/")
    assert "Report of a breach of security safeguards" in page.content.decode()

    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        affected_families=[family.pk],
        people_notified_on=school_today().isoformat(),
        people_notice="Dear families, edited by the owner.",
    )
    data = {key: value for key, value in data.items() if value is not None}
    saved = owner_client.post(f"/admin/accounts/breach/{breach.pk}/change/", data)

    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    breach.refresh_from_db()
    assert breach.people_notice == "Dear families, edited by the owner."
    assert breach.people_notified_on == school_today()
    assert breach.commissioner_notice.startswith("Report of a breach of security safeguards")
    assert list(breach.affected_families.all()) == [family]


def test_a_notice_recorded_as_sent_needs_its_text():
    with pytest.raises(DatabaseError), transaction.atomic():
        breach_discovered(school_today(), commissioner_notified_on=school_today(), commissioner_notice="")


def test_the_register_exports_as_csv(owner_client):
    breach = breach_discovered(school_today())

    response = owner_client.post(
        "/admin/accounts/breach/", {"action": "export_register_csv", "_selected_action": [breach.pk]}
    )

    assert response["Content-Type"].startswith("text/csv")
    header, row = response.content.decode().splitlines()
    assert header.startswith("Summary,Occurred,Discovered")
    assert "A laptop with the class lists was stolen" in row and row.endswith(
        ",yes,Passwords changed; police report filed.,,"
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"occurred_on": 1}, "occurred_on", "A breach is discovered on or after the day it occurred."),
        ({"contained_on": -3}, "contained_on", "A breach is contained on or after the day it occurred."),
        ({"people_notified_on": 0, "people_notice": " "}, "people_notice", "Keep the notice sent to the people"),
    ],
)
def test_dates_in_the_wrong_order_are_said_on_their_fields_not_as_a_constraint(owner_client, changes, field, message):
    breach = breach_discovered(school_today() - timedelta(days=2))
    form = owner_client.get(f"/admin/accounts/breach/{breach.pk}/change/").context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields} | {"affected_families": []}
    for name, value in changes.items():
        data[name] = (breach.discovered_on + timedelta(days=value)).isoformat() if isinstance(value, int) else value

    response = owner_client.post(f"/admin/accounts/breach/{breach.pk}/change/", data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in error for error in errors[field]), errors
    assert "Constraint" not in response.content.decode()
