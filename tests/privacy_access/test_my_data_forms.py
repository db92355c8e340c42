"""The "My data" forms refuse what the enrollment form would: a blank name, a province that is not one, a postal
code or phone that is not one, a child's name with a control character; each error keeps what was typed."""

import pytest
from django.urls import reverse

from tests.privacy_access.conftest import parent_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent(week):
    return week.parent


def _details(parent, **changes):
    family = parent.family
    form = {
        "first_name": parent.first_name,
        "last_name": parent.last_name,
        "phone": "416-555-0199",
        "street": "12 Cedar Lane",
        "city": "Toronto",
        "province": "ON",
        "postal_code": "M4E 2K1",
        "emergency_contact_name": "Grandma Ng",
        "emergency_contact_phone": "",
    } | changes
    response = parent_client(parent).post(reverse("family-details-correct"), form)
    parent.refresh_from_db()
    family.refresh_from_db()
    return response


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("first_name", "", "This field is required."),
        ("last_name", "", "This field is required."),
        ("province", "Ontario", "Select a valid choice."),
        ("postal_code", "garbage!!", "Enter a Canadian postal code"),
        ("phone", "xxxxxxxxxx", "Enter a phone number"),
        ("emergency_contact_phone", "12", "Enter a phone number"),
    ],
)
def test_bad_contact_details_are_refused_on_their_field_keeping_what_was_typed(parent, field, typed, message):
    response = _details(parent, **{field: typed, "city": "Guelph"})

    assert response.status_code == 200
    form = response.context["details"]
    assert any(message in error for error in form.errors[field])
    assert form[field].value() == typed and "Guelph" in response.content.decode()
    assert parent.family.city != "Guelph"


def test_a_postal_code_and_province_are_kept_as_canada_post_writes_them(parent):
    response = _details(parent, postal_code="m4e2k1", province="QC", phone="(514) 555.0123")

    assert response.status_code == 302
    assert (parent.family.postal_code, parent.family.province, parent.phone) == ("M4E 2K1", "QC", "(514) 555.0123")


def test_a_childs_name_with_a_control_character_is_a_form_error_not_a_500(parent, week):
    child = week.student
    old_first = child.first_name
    response = parent_client(parent).post(
        reverse("family-children-correct"), {f"first_{child.pk}": "Mai\r\nBcc: x", f"last_{child.pk}": child.last_name}
    )

    assert response.status_code == 200
    assert "no line breaks" in response.content.decode()
    child.refresh_from_db()
    assert child.first_name == old_first
