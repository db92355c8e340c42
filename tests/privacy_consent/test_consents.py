"""Consent per child (issue 18 §1): every consent records the notice version and the words shown, who gave it,
when, and for which child; the enrollment page shows the notice and records it; opt-ins are given and withdrawn
from the portal with their time, giving again is a new record; a parent sees and changes only their own family."""

import uuid

import pytest
from django.test import Client

from accounts.models import ConsentRecord, User
from accounts.services import MARKETING_CONSENT_TEXT
from cedarheights.errors import InvalidInput
from cedarheights.selectors import privacy_notice_current
from cedarheights.services import privacy_notice_draft_save, privacy_notice_publish
from enrollment.consents import PHOTOS_CONSENT_TEXT, child_consent_give, lessons_consent_text
from enrollment.models import ChildConsent
from enrollment.pipelines import enrollment_submit
from scheduling.models import Student
from tests.enrollment.test_page import page_data
from tests.factories import ChildInputFactory, EnrollmentInputFactory, ParentFactory, StudentFactory

pytestmark = pytest.mark.django_db

Purpose = ChildConsent.Purpose


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_enrollment_records_for_each_child_the_notice_version_the_words_shown_and_the_parent(school_ready):
    children = [ChildInputFactory(photos=True), ChildInputFactory(first_name="Mateo")]
    form = EnrollmentInputFactory(children=children, marketing=True)

    enrollment_submit(form=form, idempotency_key=uuid.uuid4())

    parent = User.objects.get(email=form.email)
    notice = privacy_notice_current()
    rows = {(c.student.first_name, c.purpose): c for c in ChildConsent.objects.select_related("student")}
    assert set(rows) == {("Lucia", Purpose.LESSONS), ("Lucia", Purpose.PHOTOS), ("Mateo", Purpose.LESSONS)}
    for consent in rows.values():
        assert consent.notice == notice and consent.given_by == parent and consent.given_at is not None
        assert consent.student.family_id == parent.family_id and consent.withdrawn_at is None
    assert rows["Lucia", Purpose.LESSONS].text_shown == lessons_consent_text(notice)
    assert f"version {notice.version}" in rows["Lucia", Purpose.LESSONS].text_shown
    assert rows["Lucia", Purpose.PHOTOS].text_shown == PHOTOS_CONSENT_TEXT
    marketing = ConsentRecord.objects.get()
    assert (marketing.given_by, marketing.notice, marketing.text_shown) == (parent, notice, MARKETING_CONSENT_TEXT)
    lucia, mateo = Student.objects.order_by("first_name")
    assert lucia.photos_allowed and not mateo.photos_allowed


def test_the_page_shows_the_notice_version_and_records_the_version_it_showed_even_once_a_newer_one_is_out(
    school_ready,
):
    first = privacy_notice_current()
    page = Client().get("/enroll/").content.decode()
    assert 'href="/privacy/"' in page and f"version {first.version}" in page

    newer = privacy_notice_publish(actor=None, notice=privacy_notice_draft_save(actor=None, title="t", body="New."))
    Client().post("/enroll/", page_data(school_ready, notice_version=str(first.version), **{"children-0-photos": "on"}))

    consents = ChildConsent.objects.all()
    assert {c.purpose for c in consents} == {Purpose.LESSONS, Purpose.PHOTOS}
    assert {c.notice for c in consents} == {first} != {newer}
    assert consents.get(purpose=Purpose.LESSONS).text_shown == lessons_consent_text(first)


@pytest.mark.parametrize(("overrides", "error"), [({"consent": ""}, "agree"), ({"notice_version": "99"}, "unknown")])
def test_no_consent_or_an_unknown_notice_version_is_a_form_error_that_keeps_what_was_typed(
    school_ready, overrides, error
):
    response = Client().post("/enroll/", page_data(school_ready, **overrides))

    assert response.status_code == 200
    assert error in " ".join(response.context["details"].errors["consent"])
    assert 'value="Lucia"' in response.content.decode()
    assert not ChildConsent.objects.exists() and not Student.objects.exists()


def test_the_api_refuses_an_unknown_notice_version_with_the_documented_error_body(school_ready):
    parent = ParentFactory()
    client = signed_in(parent)
    body = {
        "children": [
            {
                "first_name": "Ines",
                "last_name": "Lopez",
                "date_of_birth": "2015-06-01",
                "instrument": school_ready["piano"].pk,
            }
        ],
        "windows": [{"weekday": 0, "start_time": "16:00", "end_time": "17:00"}],
        "tuition_plan": school_ready["plan"].pk,
        "consent": True,
        "notice_version": 42,
        "payment_method_id": school_ready["stripe"].card("4242424242424242"),
    }

    response = client.post("/api/v1/enrollments/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == 400 and "consent" in response.json()["fields"]
    assert not ChildConsent.objects.exists()


@pytest.fixture
def family(db):
    """A parent with two children, each with the lessons consent given at enrollment."""
    parent = ParentFactory()
    children = [StudentFactory(family=parent.family, first_name=name) for name in ("Ada", "Ben")]
    for child in children:
        child_consent_give(
            actor=parent, student=child, purpose=Purpose.LESSONS, given_by=parent, notice=privacy_notice_current()
        )
    return parent, children


def test_photos_are_given_withdrawn_and_given_again_from_the_portal_each_time_recorded(family):
    parent, (ada, _) = family
    client = signed_in(parent)

    for choice in ("photos_give", "photos_withdraw", "photos_give"):
        response = client.post("/family/privacy/", {"choice": choice, "student": ada.pk})
        assert response.status_code == 302

    photos = list(ChildConsent.objects.filter(student=ada, purpose=Purpose.PHOTOS).order_by("given_at", "pk"))
    assert len(photos) == 2  # the history kept: a withdrawn record and a new one
    assert photos[0].withdrawn_at is not None and photos[0].withdrawn_by == parent
    assert photos[0].withdrawn_at <= photos[1].given_at and photos[1].withdrawn_at is None
    assert all(c.text_shown == PHOTOS_CONSENT_TEXT and c.notice == privacy_notice_current() for c in photos)
    ada.refresh_from_db()
    assert ada.photos_allowed


def test_marketing_is_the_parents_own_and_withdrawing_it_records_the_time(family):
    parent, _ = family
    client = signed_in(parent)

    client.post("/family/privacy/", {"choice": "marketing_give"})
    client.post("/family/privacy/", {"choice": "marketing_withdraw"})
    client.post("/family/privacy/", {"choice": "marketing_give"})

    first, again = ConsentRecord.objects.filter(given_by=parent).order_by("given_at", "pk")
    assert first.withdrawn_at is not None and again.withdrawn_at is None
    assert again.text_shown == MARKETING_CONSENT_TEXT and again.family == parent.family


def test_the_teacher_sees_no_photos_on_a_student_without_photo_consent(week):
    teacher_client = signed_in(week.teacher.user)
    shown = week.student.first_name

    before = teacher_client.get("/teach/students/").content.decode()
    child_consent_give(
        actor=week.parent,
        student=week.student,
        purpose=Purpose.PHOTOS,
        given_by=week.parent,
        notice=privacy_notice_current(),
    )
    after = teacher_client.get("/teach/students/").content.decode()

    assert shown in before and "No photos/recordings" in before
    assert shown in after and "No photos/recordings" not in after


def test_the_page_shows_only_the_parents_own_family_and_refuses_another_familys_child(family):
    parent, (ada, _) = family
    neighbour = ParentFactory()
    theirs = StudentFactory(family=neighbour.family, first_name="Zed")
    client = signed_in(parent)

    page = client.get("/family/privacy/").content.decode()
    refused = client.post("/family/privacy/", {"choice": "photos_give", "student": theirs.pk})
    nonsense = client.post("/family/privacy/", {"choice": "delete_everything", "student": ada.pk})

    assert "Ada" in page and "Ben" in page and "Zed" not in page
    assert refused.status_code == 200 and "Choose one of your children." in refused.content.decode()
    assert nonsense.status_code == 200 and nonsense.context["form"].errors["choice"]
    assert not ChildConsent.objects.filter(purpose=Purpose.PHOTOS).exists()
    assert signed_in(neighbour).get("/family/privacy/").content.decode().count("Ada") == 0


def test_a_consent_is_only_given_by_the_childs_own_parent(family):
    _, (ada, _) = family
    stranger = ParentFactory()

    with pytest.raises(InvalidInput, match="own parent"):
        child_consent_give(
            actor=stranger, student=ada, purpose=Purpose.PHOTOS, given_by=stranger, notice=privacy_notice_current()
        )
