"""/enroll/ starts with one child block; "Add another child" adds one (up to four), also without JavaScript."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from enrollment.models import Enrollment
from scheduling.models import Student
from tests.enrollment.test_page import page_data

pytestmark = pytest.mark.django_db


def blocks(page: str) -> list[str]:
    """The legends of the child blocks rendered (not those of the <template> JavaScript clones)."""
    return re.findall(r'<fieldset class="child" id="child-\d+">\s*<legend>([^<]+)</legend>', page)


def test_the_page_starts_with_one_child_block_and_an_add_button(school_ready):
    """Failed before the fix: four blank blocks, and no way to add one."""
    page = Client().get("/enroll/").content.decode()
    assert blocks(page) == ["Child 1"]
    add = '<button type="submit" id="add-child" name="add_child" value="1" formnovalidate>Add another child</button>'
    assert add in page
    assert 'role="status" aria-live="polite"' in page


def test_without_javascript_add_another_child_adds_a_block_keeping_what_was_typed_and_enrolls_nobody(school_ready):
    """Failed before the fix: the button did not exist; a post with it enrolled the family at once."""
    data = page_data(school_ready, **{"children-TOTAL_FORMS": "1", "add_child": "1"})
    del data["phone"]  # not typed yet: no error is shown for it while the family is still adding children

    response = Client().post("/enroll/", data)

    page = response.content.decode()
    assert response.status_code == 200 and not Student.objects.exists()
    assert blocks(page) == ["Child 1", "Child 2"]
    assert 'value="Lucia"' in page and 'value="maya@example.com"' in page and 'value="16:00"' in page
    assert 'name="children-1-first_name"' in page and 'name="remove_child" formnovalidate value="1"' in page
    assert "This field is required" not in page and 'role="alert"><li>' not in page


def test_without_javascript_a_block_is_removed_and_the_next_moves_up(school_ready):
    data = page_data(
        school_ready,
        **{
            "children-TOTAL_FORMS": "3",
            "children-1-first_name": "Nobody",
            "children-2-first_name": "Mateo",
            "remove_child": "1",
        },
    )
    page = Client().post("/enroll/", data).content.decode()
    assert blocks(page) == ["Child 1", "Child 2"]
    assert 'name="children-1-first_name" value="Mateo"' in page and "Nobody" not in page


def test_the_add_button_stops_at_four_children(school_ready):
    data = page_data(school_ready, **{"children-TOTAL_FORMS": "4", "add_child": "1"})
    page = Client().post("/enroll/", data).content.decode()
    assert blocks(page) == ["Child 1", "Child 2", "Child 3", "Child 4"]
    assert 'id="add-child" name="add_child" value="1" formnovalidate hidden' in page


def test_after_an_error_the_page_shows_the_blocks_the_family_filled(school_ready):
    """Blank blocks between filled ones are dropped, and the pipeline's error lands on the right child."""
    too_young = f"{timezone.localdate() - timedelta(days=2 * 365):%Y-%m-%d}"
    data = page_data(
        school_ready,
        **{
            "children-TOTAL_FORMS": "3",
            "children-2-first_name": "Nico",
            "children-2-last_name": "Lopez",
            "children-2-date_of_birth": too_young,
            "children-2-instrument": str(school_ready["piano"].pk),
        },
    )
    response = Client().post("/enroll/", data)
    assert blocks(response.content.decode()) == ["Child 1", "Child 2"]
    assert "Students start at 5" in str(response.context["children"].forms[1].errors["date_of_birth"])
    assert not Enrollment.objects.exists()


def test_no_child_at_all_is_said_in_plain_words(school_ready):
    """Failed before the fix: "Please submit at least 1 form."."""
    data = page_data(school_ready, **{"children-0-first_name": "", "children-0-last_name": ""})
    del data["children-0-date_of_birth"], data["children-0-instrument"]
    response = Client().post("/enroll/", data)
    assert list(response.context["children"].non_form_errors()) == ["Add at least one child."]
    assert "Add at least one child." in response.content.decode()
    assert not Student.objects.exists()


def test_the_owners_phone_page_adds_a_child_block_too(school_ready, admin_client):
    data = page_data(school_ready, **{"children-TOTAL_FORMS": "1", "add_child": "Add another child"})
    response = admin_client.post("/admin/enrollment/enrollment/phone/", data)
    assert response.status_code == 200 and len(response.context["children"].forms) == 2
    assert not Student.objects.exists()
    page = response.content.decode()
    # Adding a block is not a submit: the browser may not ask for required fields first, and the page shows no
    # "This field is required." for the block just added (it showed one on every field of both blocks).
    assert re.search(r'<input type="submit" name="add_child"[^>]*formnovalidate', page)
    assert "This field is required." not in page
    assert 'value="{}"'.format(data["children-0-first_name"]) in page
