"""The family's API: the cancellation preview, the family's cancel (and the older `cancel`, the same for a parent),
make-up credits with their status and ledger, offers, booking and rescheduling; who may do what; and ten families
racing for one free make-up time."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from cedarheights.models import EmailLog
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.credits import credits_with_balance, makeup_credit_grant, makeup_credit_hold
from enrollment.errors import MakeupSlotNotOffered
from enrollment.makeups import lesson_cancel_by_family, makeup_book, makeup_slots_offer
from enrollment.models import Enrollment, MakeupCredit
from scheduling.models import Lesson, MakeupBlock
from scheduling.outcomes import Outcome
from tests.concurrency import at_once
from tests.factories import EnrollmentFactory, ParentFactory, StudentFactory, TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def owner() -> User:
    return UserFactory(role=User.Role.ADMIN, is_staff=True)


def granted(enrollment, *, by=None) -> MakeupCredit:
    return makeup_credit_grant(enrollment=enrollment, actor=by or owner(), reason="Snow day", goodwill=True)


def balance(credit) -> int:
    return credits_with_balance().get(pk=credit.pk).balance


def time_of(offer) -> dict:
    return {"teacher": offer.teacher.pk, "start_at": offer.start_at.isoformat()}


# The cancellation preview


def test_the_preview_says_the_credit_with_notice_and_why_none_when_late_with_the_sick_pass_as_an_option(week):
    early, late = week.lesson_in(hours=72), week.lesson_in(hours=5)
    parent = api(week.parent)

    with_notice = parent.get(f"/api/v1/lessons/{early.pk}/cancellation/").json()
    inside = parent.get(f"/api/v1/lessons/{late.pk}/cancellation/").json()
    sick = parent.get(f"/api/v1/lessons/{late.pk}/cancellation/?use_sick_pass=true").json()

    expires = timezone.localtime(early.start_at).date() + timedelta(days=school_settings_get().family_credit_days)
    assert with_notice | {"fee": None} == {
        "outcome": "cancelled_with_notice",
        "outcome_label": "Cancelled with notice",
        "late": False,
        "earns_credit": True,
        "why_no_credit": "",
        "credit_expires_on": expires.isoformat(),
        "sick_passes_left": 2,
        "fee": None,
    }
    assert inside["outcome"] == "late_cancel" and not inside["earns_credit"]
    assert inside["why_no_credit"] == "it is less than 24 hours before the lesson"
    assert sick["outcome"] == "late_cancel_sick" and sick["earns_credit"] and sick["sick_passes_left"] == 2
    assert not MakeupCredit.objects.exists()  # a preview gives nothing


def test_a_sick_pass_asked_for_when_none_is_left_previews_a_plain_late_cancellation(week):
    school_settings_update(school_settings=school_settings_get(), sick_passes_per_term=0)
    lesson = week.lesson_in(hours=5)

    preview = api(week.parent).get(f"/api/v1/lessons/{lesson.pk}/cancellation/?use_sick_pass=true").json()

    assert preview["outcome"] == "late_cancel" and not preview["earns_credit"] and preview["sick_passes_left"] == 0


def test_the_preview_of_a_lesson_already_cancelled_otherwise_is_refused_as_the_cancel_would_be(week):
    lesson = week.lesson_in(hours=72)
    lesson_cancel_by_family(lesson=lesson, actor=week.parent)
    school_settings_update(school_settings=school_settings_get(), cancellation_notice_hours=100)  # now it'd be late

    response = api(week.parent).get(f"/api/v1/lessons/{lesson.pk}/cancellation/")

    assert response.status_code == 400 and response.json()["code"] == "status_not_allowed"


def test_the_preview_shows_a_late_cancellation_fee_of_a_per_lesson_plan_waived_the_first_time(week):
    school_settings_update(school_settings=school_settings_get(), lesson_fees_enabled=True)
    plan = week.enrollment.tuition_plan
    plan.basis, plan.price_cents = "per_lesson", 4000
    plan.save()
    lesson = week.lesson_in(hours=5)

    fee = api(week.parent).get(f"/api/v1/lessons/{lesson.pk}/cancellation/").json()["fee"]

    assert fee == {
        "outcome": "late_cancel",
        "amount_cents": 2000,
        "amount_display": "$20.00 CAD",
        "waived_because": "the first late cancellation of the term is waived",
    }


# The family's cancel


def test_family_cancel_sent_twice_gives_one_credit_one_email_and_the_same_answer(week):
    lesson = week.lesson_in(hours=72)
    parent = api(week.parent)

    first = parent.post(f"/api/v1/lessons/{lesson.pk}/family-cancel/", {"reason": "Away"}, format="json")
    again = parent.post(f"/api/v1/lessons/{lesson.pk}/family-cancel/", {"reason": "Away"}, format="json")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    body = first.json()
    assert body["lesson"]["status"] == "cancelled" and body["credit"]["status"] == "available"
    assert body["credit"]["balance"] == 1 and [e["kind"] for e in body["credit"]["entries"]] == ["issued"]
    assert MakeupCredit.objects.count() == 1
    assert EmailLog.objects.filter(template="lesson_cancelled").count() == 1


def test_the_older_cancel_is_the_familys_cancel_for_a_parent(week):
    """Before, `cancel` set the outcome without the family's email: the two roads now end the same."""
    by_cancel, by_family_cancel = week.lesson_in(hours=72), week.lesson_in(hours=96)
    parent = api(week.parent)

    old = parent.post(f"/api/v1/lessons/{by_cancel.pk}/cancel/", {"reason": "Away"}, format="json")
    new = parent.post(f"/api/v1/lessons/{by_family_cancel.pk}/family-cancel/", {"reason": "Away"}, format="json")

    assert old.status_code == new.status_code == 200
    same = ("status", "outcome", "outcome_set_by", "cancelled_by", "cancellation_reason")
    assert {k: old.json()[k] for k in same} == {k: new.json()["lesson"][k] for k in same}
    for lesson in (by_cancel, by_family_cancel):
        lesson.refresh_from_db()
        assert lesson.outcome == Outcome.CANCELLED_WITH_NOTICE
        assert credits_with_balance().get(missed_lesson=lesson).balance == 1
        assert EmailLog.objects.filter(template="lesson_cancelled", related_id=str(lesson.pk)).count() == 1


def test_the_older_cancel_stays_the_schools_own_for_the_school(week):
    lesson = week.lesson_in(hours=5)  # inside the notice window: a family's cancel would be late

    response = api(owner()).post(f"/api/v1/lessons/{lesson.pk}/cancel/", {"reason": "Asked"}, format="json")

    assert response.status_code == 200
    lesson.refresh_from_db()
    assert lesson.outcome == Outcome.CANCELLED_WITH_NOTICE  # the school's cancel for the family, as before
    assert not EmailLog.objects.filter(template="lesson_cancelled").exists()


def test_a_late_family_cancel_with_a_sick_pass_and_none_left(week):
    school_settings_update(school_settings=school_settings_get(), sick_passes_per_term=1)
    first, second = week.lesson_in(hours=4), week.lesson_in(hours=6)
    parent = api(week.parent)

    used = parent.post(f"/api/v1/lessons/{first.pk}/family-cancel/", {"use_sick_pass": True}, format="json")
    refused = parent.post(f"/api/v1/lessons/{second.pk}/family-cancel/", {"use_sick_pass": True}, format="json")

    assert used.status_code == 200 and used.json()["lesson"]["status"] == "cancelled"
    assert used.json()["credit"]["origin"] == "sick_pass"
    assert refused.status_code == 409 and refused.json()["code"] == "no_sick_pass_left"
    second.refresh_from_db()
    assert second.outcome == ""


def test_the_owner_cancels_for_a_family_and_a_teacher_may_not(week):
    lesson, other = week.lesson_in(hours=72), week.lesson_in(hours=96)

    refused = api(week.teacher.user).post(f"/api/v1/lessons/{lesson.pk}/family-cancel/", {}, format="json")
    done = api(owner()).post(f"/api/v1/lessons/{other.pk}/family-cancel/", {}, format="json")

    assert refused.status_code == 403
    assert done.status_code == 200 and done.json()["credit"]["balance"] == 1
    assert api(week.teacher.user).get(f"/api/v1/lessons/{lesson.pk}/cancellation/").status_code == 403


def test_another_familys_lesson_is_404_for_every_family_action(week):
    lesson = week.lesson_in(hours=72)
    other_parent, _, _ = week.another_family()
    other = api(other_parent)

    assert other.get(f"/api/v1/lessons/{lesson.pk}/cancellation/").status_code == 404
    for action in ("family-cancel", "cancel", "reschedule"):
        assert other.post(f"/api/v1/lessons/{lesson.pk}/{action}/", {}, format="json").status_code == 404, action
    lesson.refresh_from_db()
    assert lesson.outcome == ""


# Credits


def test_a_parent_lists_their_familys_credits_with_status_and_ledger_the_owner_all_a_teacher_none(week):
    mine = granted(week.enrollment)
    used = granted(week.enrollment)
    offer = makeup_slots_offer(credit=used)[0]
    makeup = makeup_book(credit=used, teacher=offer.teacher, start_at=offer.start_at, actor=week.parent)
    held = makeup_credit_hold(credit=granted(week.enrollment))
    _, _, other_enrollment = week.another_family()
    theirs = granted(other_enrollment)

    listed = api(week.parent).get("/api/v1/makeup-credits/").json()["results"]
    everyone = api(owner()).get(f"/api/v1/makeup-credits/?family={other_enrollment.student.family_id}").json()

    statuses = {row["id"]: row["status"] for row in listed}
    assert statuses == {mine.pk: "available", used.pk: "used", held.pk: "held"}
    row = next(row for row in listed if row["id"] == used.pk)
    assert row["balance"] == 0 and row["expires_on"] == used.expires_on.isoformat() and row["origin"] == "goodwill"
    assert [(e["kind"], e["balance_after"], e["lesson"]) for e in row["entries"]] == [
        ("issued", 1, None),
        ("redeemed", 0, makeup.pk),
    ]
    assert [row["id"] for row in everyone["results"]] == [theirs.pk]
    assert api(owner()).get("/api/v1/makeup-credits/?status=used").json()["count"] == 1
    assert api(week.teacher.user).get("/api/v1/makeup-credits/").status_code == 403
    assert api(ParentFactory()).get(f"/api/v1/makeup-credits/{mine.pk}/").status_code == 404


def test_a_credit_past_its_expiry_reads_expired_before_the_nightly_job(week):
    credit = granted(week.enrollment)
    MakeupCredit.objects.filter(pk=credit.pk).update(expires_on=timezone.localdate() - timedelta(days=1))

    body = api(week.parent).get(f"/api/v1/makeup-credits/{credit.pk}/").json()
    offers = api(week.parent).get(f"/api/v1/makeup-credits/{credit.pk}/offers/")

    assert body["status"] == "expired" and body["balance"] == 1
    assert offers.status_code == 409 and offers.json()["code"] == "credit_not_usable"


# Offers, booking, rescheduling


def test_offers_narrow_by_day_and_a_booking_answers_the_makeup_lesson(week):
    credit = granted(week.enrollment)
    parent = api(week.parent)
    all_offers = makeup_slots_offer(credit=credit)
    day = timezone.localtime(all_offers[-1].start_at).date()

    offers = parent.get(f"/api/v1/makeup-credits/{credit.pk}/offers/?day={day}&teacher={week.teacher.pk}").json()
    chosen = offers["results"][2]
    booked = parent.post(
        f"/api/v1/makeup-credits/{credit.pk}/book/",
        {"teacher": week.teacher.pk, "start_at": chosen["start_at"]},
        format="json",
    )

    assert {datetime.fromisoformat(o["start_at"]).date() for o in offers["results"]} == {day}
    assert chosen["teacher"] == {"id": week.teacher.pk, "name": week.teacher.user.get_full_name()}
    assert chosen["source"] == "the teacher's free time"
    assert booked.status_code == 201, booked.content
    assert booked.json()["kind"] == "makeup" and booked.json()["start_at"] == chosen["start_at"]
    assert balance(credit) == 0


def test_a_booking_body_names_only_its_fields_and_a_time_not_offered_is_a_409(week):
    credit = granted(week.enrollment)
    parent = api(week.parent)
    taken = week.lesson_in(hours=50)

    extra = parent.post(f"/api/v1/makeup-credits/{credit.pk}/book/", {"credit": 3}, format="json")
    not_offered = parent.post(
        f"/api/v1/makeup-credits/{credit.pk}/book/",
        {"teacher": week.teacher.pk, "start_at": taken.start_at.isoformat()},
        format="json",
    )

    assert extra.status_code == 400 and set(extra.json()["fields"]) == {"credit", "teacher", "start_at"}
    assert not_offered.status_code == 409 and not_offered.json()["code"] == "makeup_slot_not_offered"
    assert balance(credit) == 1


def test_a_booking_replayed_with_its_idempotency_key_answers_the_same_makeup(week):
    credit = granted(week.enrollment)
    offer = makeup_slots_offer(credit=credit)[0]
    parent = api(week.parent)

    first = parent.post(
        f"/api/v1/makeup-credits/{credit.pk}/book/", time_of(offer), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = parent.post(
        f"/api/v1/makeup-credits/{credit.pk}/book/", time_of(offer), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Lesson.objects.filter(kind=Lesson.Kind.MAKEUP).count() == 1


def test_a_reschedule_books_the_makeup_with_the_credit_its_cancellation_earns(week):
    lesson = week.lesson_in(hours=72)
    probe = MakeupCredit(
        enrollment=week.enrollment, instrument=week.student.instrument, lesson_minutes=30, expires_on=week.term.end_date
    )
    offer = makeup_slots_offer(credit=probe)[5]

    response = api(week.parent).post(f"/api/v1/lessons/{lesson.pk}/reschedule/", time_of(offer), format="json")

    assert response.status_code == 201
    makeup = Lesson.objects.get(pk=response.json()["id"])
    assert makeup.kind == Lesson.Kind.MAKEUP and makeup.start_at == offer.start_at
    lesson.refresh_from_db()
    credit = MakeupCredit.objects.get(missed_lesson=lesson)
    assert lesson.outcome == Outcome.CANCELLED_WITH_NOTICE and balance(credit) == 0
    assert list(credit.entries.values_list("kind", "lesson")) == [("issued", None), ("redeemed", makeup.pk)]


def test_the_times_a_lesson_may_move_to_are_those_its_credit_would_book_and_none_when_it_earns_none(week):
    lesson, late = week.lesson_in(hours=72), week.lesson_in(hours=5)
    probe = MakeupCredit(
        enrollment=week.enrollment, instrument=week.student.instrument, lesson_minutes=30, expires_on=week.term.end_date
    )
    day = timezone.localtime(makeup_slots_offer(credit=probe)[0].start_at).date()
    parent = api(week.parent)

    offers = parent.get(f"/api/v1/lessons/{lesson.pk}/reschedule/?day={day}")
    none = parent.get(f"/api/v1/lessons/{late.pk}/reschedule/")

    expected = [o.start_at for o in makeup_slots_offer(credit=probe, day=day)]
    assert [datetime.fromisoformat(o["start_at"]) for o in offers.json()["results"]] == expected[:25]
    assert offers.json()["count"] == len(expected)
    assert none.status_code == 409 and none.json()["code"] == "no_credit_earned"
    assert api(week.teacher.user).get(f"/api/v1/lessons/{lesson.pk}/reschedule/").status_code == 403


def test_a_booked_makeup_rescheduled_moves_with_the_credit_that_paid_for_it(week):
    credit = granted(week.enrollment)
    first, second = makeup_slots_offer(credit=credit)[-1], makeup_slots_offer(credit=credit)[-2]
    makeup = makeup_book(credit=credit, teacher=first.teacher, start_at=first.start_at, actor=week.parent)

    response = api(week.parent).post(f"/api/v1/lessons/{makeup.pk}/reschedule/", time_of(second), format="json")

    assert response.status_code == 201, response.content
    moved = Lesson.objects.get(pk=response.json()["id"])
    makeup.refresh_from_db()
    assert moved.start_at == second.start_at and makeup.outcome == Outcome.CANCELLED_WITH_NOTICE
    assert list(credit.entries.values_list("kind", "lesson")) == [
        ("issued", None),
        ("redeemed", makeup.pk),
        ("returned", makeup.pk),
        ("redeemed", moved.pk),
    ]


def test_a_failed_reschedule_leaves_the_lesson_uncancelled_and_a_late_one_is_refused_with_why(week):
    lesson, late = week.lesson_in(hours=72), week.lesson_in(hours=5)
    offer = makeup_slots_offer(credit=granted(week.enrollment))[0]
    parent = api(week.parent)

    not_offered = parent.post(
        f"/api/v1/lessons/{lesson.pk}/reschedule/",
        {"teacher": week.teacher.pk, "start_at": (offer.start_at + timedelta(minutes=7)).isoformat()},
        format="json",
    )
    too_late = parent.post(f"/api/v1/lessons/{late.pk}/reschedule/", time_of(offer), format="json")

    assert not_offered.status_code == 409 and not_offered.json()["code"] == "makeup_slot_not_offered"
    assert too_late.status_code == 409 and too_late.json()["code"] == "no_credit_earned"
    assert "it is less than 24 hours before the lesson" in too_late.json()["message"]
    for each in (lesson, late):
        each.refresh_from_db()
        assert each.outcome == ""
    assert not MakeupCredit.objects.filter(missed_lesson__in=[lesson, late]).exists()


def test_a_makeup_cancelled_with_notice_returns_its_credit_once_and_a_late_one_forfeits_it(week):
    school_settings_update(school_settings=school_settings_get(), makeup_notice_hours=2, sick_passes_per_term=0)
    early_credit, late_credit = granted(week.enrollment), granted(week.enrollment)
    offers = makeup_slots_offer(credit=early_credit)
    soon = next(o for o in offers if o.start_at < timezone.now() + timedelta(hours=20))
    later = offers[-1]
    early = makeup_book(credit=early_credit, teacher=later.teacher, start_at=later.start_at, actor=week.parent)
    late = makeup_book(credit=late_credit, teacher=soon.teacher, start_at=soon.start_at, actor=week.parent)
    parent = api(week.parent)

    for _ in range(2):
        returned = parent.post(f"/api/v1/lessons/{early.pk}/family-cancel/", {}, format="json")
    forfeited = parent.post(f"/api/v1/lessons/{late.pk}/family-cancel/", {}, format="json")

    assert returned.json()["credit"]["id"] == early_credit.pk and balance(early_credit) == 1
    assert [k for k in early_credit.entries.values_list("kind", flat=True)] == ["issued", "redeemed", "returned"]
    assert forfeited.json()["lesson"]["status"] == "cancelled" and forfeited.json()["credit"] is None
    assert balance(late_credit) == 0


# Ten families, one free make-up time


@pytest.fixture
def one_free_time(week):
    """A teacher with no weekly hours and one make-up block of exactly one 30-minute lesson, two days out; ten
    families whose child they teach, each with one credit."""
    teacher = TeacherFactory(instruments=[week.student.instrument])
    start = (timezone.localtime() + timedelta(days=2)).replace(hour=16, minute=0, second=0, microsecond=0)
    MakeupBlock.objects.create(teacher=teacher, start_at=start, end_at=start + timedelta(minutes=30))
    families = []
    for _ in range(10):
        parent = ParentFactory()
        student = StudentFactory(family=parent.family, instrument=week.student.instrument, teacher=teacher)
        enrollment = EnrollmentFactory(student=student, status=Enrollment.Status.ACTIVE, lesson_minutes=30)
        families.append((parent, granted(enrollment)))
    return teacher, start, families


@pytest.mark.django_db(transaction=True)
def test_ten_families_booking_the_one_free_makeup_time_at_once_one_gets_it_nine_keep_their_credit(one_free_time):
    teacher, start, families = one_free_time
    assert [(o.teacher, o.start_at) for o in makeup_slots_offer(credit=families[0][1])] == [(teacher, start)]

    def booking(parent, credit):
        def book():
            response = api(parent).post(
                f"/api/v1/makeup-credits/{credit.pk}/book/",
                {"teacher": teacher.pk, "start_at": start.isoformat()},
                format="json",
            )
            return response.status_code, response.json()

        return book

    answers = at_once([booking(parent, credit) for parent, credit in families])

    assert sorted(status for status, _ in answers) == [201] + [409] * 9
    assert {body["code"] for status, body in answers if status == 409} == {MakeupSlotNotOffered.code}
    booked = Lesson.objects.get(kind=Lesson.Kind.MAKEUP)
    assert booked.teacher == teacher and booked.start_at == start
    winner = next(credit for _, credit in families if credit.enrollment.student_id == booked.student_id)
    assert {credit.pk: balance(credit) for _, credit in families} == {
        credit.pk: 0 if credit == winner else 1 for _, credit in families
    }
