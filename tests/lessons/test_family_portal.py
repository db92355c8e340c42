"""The parent's portal (/family/): each page as the family's parent, as another family's (404), as a teacher (no
access); cancelling with the credit said before confirming, once; late cancels and sick passes; rescheduling in one
step; booking a make-up; a booked make-up cancelled in time or late."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape

from accounts.models import User
from cedarheights.models import EmailLog
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.credits import credits_with_balance, makeup_credit_grant
from enrollment.makeups import lesson_cancel_by_family, makeup_book, makeup_slots_offer
from enrollment.models import MakeupCredit
from scheduling.models import Lesson
from scheduling.outcomes import Outcome
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def slot(offer) -> str:
    """An offered time as the page's radios send it."""
    return f"{offer.teacher.pk}@{offer.start_at.isoformat()}"


def local(moment, pattern: str) -> str:
    return dateformat.format(timezone.localtime(moment), pattern)


def granted(week, *, enrollment=None) -> MakeupCredit:
    owner = UserFactory(role=User.Role.ADMIN, is_staff=True)
    return makeup_credit_grant(enrollment=enrollment or week.enrollment, actor=owner, reason="Snow day", goodwill=True)


def balance(credit) -> int:
    return credits_with_balance().get(pk=credit.pk).balance


# Home


def test_home_shows_each_childs_next_four_lessons_teacher_open_credits_notes_and_links(week):
    lessons = [week.lesson_in(hours=hours) for hours in (30, 54, 78, 102, 126)]
    past = week.lesson_in(hours=-50)
    Lesson.objects.filter(pk=past.pk).update(family_note="Great scales today!")
    lesson_cancel_by_family(lesson=lessons[0], actor=week.parent)
    credit = MakeupCredit.objects.get(missed_lesson=lessons[0])

    page = signed_in(week.parent).get("/family/").content.decode()

    assert escape(week.student.first_name) in page and escape(str(week.teacher)) in page
    shown = [reverse("family-lesson", args=[lesson.pk]) for lesson in lessons[1:]]
    assert all(f'href="{url}"' in page for url in shown)  # the next four, the cancelled one not among them
    assert reverse("family-lesson", args=[lessons[0].pk]) not in page
    assert f"1 make-up credit</a>, use by {credit.expires_on:%-d %b}" in page
    assert "Great scales today!" in page
    assert 'href="/billing/"' in page and 'href="/accounts/profile/"' in page


def test_a_parent_lands_on_the_portal_from_the_front_door_and_the_other_parent_pages_link_it(week):
    parent = signed_in(week.parent)

    assert parent.get("/").url == "/family/"
    assert 'href="/family/"' in parent.get("/accounts/profile/").content.decode()
    assert 'href="/family/"' in parent.get("/billing/").content.decode()
    assert signed_in(week.teacher.user).get("/").url == "/teach/"


# Who may see what


def test_another_familys_lesson_and_credit_are_404_and_a_teacher_has_no_portal(week):
    lesson = week.lesson_in(hours=72)
    credit = granted(week)
    other_parent, _, _ = week.another_family()
    other, teacher = signed_in(other_parent), signed_in(week.teacher.user)
    pages = [
        f"/family/lessons/{lesson.pk}/",
        f"/family/credits/{credit.pk}/book/",
    ]

    for url in pages:
        assert signed_in(week.parent).get(url).status_code == 200, url
        assert other.get(url).status_code == 404, url
    for url, data in [
        (f"/family/lessons/{lesson.pk}/cancel/", {"shown_late": "False"}),
        (f"/family/lessons/{lesson.pk}/reschedule/", {"slot": "1@2030-01-01T10:00:00-05:00"}),
        (f"/family/credits/{credit.pk}/book/", {"slot": "1@2030-01-01T10:00:00-05:00"}),
    ]:
        assert other.post(url, data).status_code == 404, url
    for url in ["/family/", "/family/lessons/", "/family/credits/", *pages]:
        assert teacher.get(url).status_code == 404, url
    lesson.refresh_from_db()
    assert lesson.outcome == "" and balance(credit) == 1  # nothing the others sent did anything


def test_the_owner_is_sent_to_the_back_office_and_someone_signed_out_to_sign_in(week):
    owner = UserFactory(role=User.Role.ADMIN, is_staff=True)

    assert signed_in(owner).get("/family/").url == reverse("admin:index")
    assert Client().get("/family/").url.startswith("/accounts/login/")


# Cancelling


def test_a_cancellation_with_notice_shows_the_credit_before_confirming_and_issues_it_once(week):
    lesson = week.lesson_in(hours=72)
    parent = signed_in(week.parent)
    expires = timezone.localtime(lesson.start_at).date() + timedelta(days=school_settings_get().family_credit_days)

    page = parent.get(f"/family/lessons/{lesson.pk}/").content.decode()
    assert f"you get a make-up credit for a 30-minute lesson, to use by <strong>{expires:%-d %B %Y}</strong>" in page
    assert MakeupCredit.objects.count() == 0  # shown, not given

    done = parent.post(f"/family/lessons/{lesson.pk}/cancel/", {"shown_late": "False"}, follow=True)
    again = parent.post(f"/family/lessons/{lesson.pk}/cancel/", {"shown_late": "False"}, follow=True)

    assert done.redirect_chain[-1][0] == "/family/"
    assert f"You have a make-up credit to use by {expires:%-d %B %Y}." in done.content.decode()
    assert again.status_code == 200 and "This lesson is already cancelled." in again.content.decode()
    lesson.refresh_from_db()
    assert lesson.outcome == Outcome.CANCELLED_WITH_NOTICE and lesson.outcome_set_by == week.parent
    [credit] = credits_with_balance().filter(enrollment=week.enrollment)
    assert credit.balance == 1 and credit.expires_on == expires
    [email] = EmailLog.objects.filter(template="lesson_cancelled", recipient=week.parent.email)
    assert f"You have a make-up credit: a 30-minute {week.student.instrument} lesson" in email.text_body
    assert f"/family/credits/{credit.pk}/book/" in email.text_body


def test_a_late_cancellation_says_why_no_credit_and_cannot_be_rescheduled(week):
    school_settings_update(school_settings=school_settings_get(), sick_passes_per_term=0)
    lesson = week.lesson_in(hours=5)

    page = signed_in(week.parent).get(f"/family/lessons/{lesson.pk}/").content.decode()

    assert "no make-up credit comes with it: it is less than 24 hours before the lesson" in page
    assert "Use a sick pass" not in page  # none left this term
    assert "This lesson cannot be rescheduled online" in page and 'name="slot"' not in page
    signed_in(week.parent).post(f"/family/lessons/{lesson.pk}/cancel/", {"shown_late": "True"})
    lesson.refresh_from_db()
    assert lesson.outcome == Outcome.LATE_CANCEL and not MakeupCredit.objects.exists()
    [email] = EmailLog.objects.filter(template="lesson_cancelled")
    assert "as a late cancellation" in email.text_body and "it is less than 24 hours" in email.text_body


def test_a_late_cancellation_with_a_sick_pass_earns_a_credit_and_uses_the_pass(week):
    lesson = week.lesson_in(hours=5)
    parent = signed_in(week.parent)

    page = parent.get(f"/family/lessons/{lesson.pk}/").content.decode()
    assert '<label for="id_use_sick_pass">Use a sick pass (2 left this term): you get a make-up credit' in page

    parent.post(f"/family/lessons/{lesson.pk}/cancel/", {"shown_late": "True", "use_sick_pass": "on"})

    lesson.refresh_from_db()
    assert lesson.outcome == Outcome.LATE_CANCEL_SICK
    assert credits_with_balance().get(missed_lesson=lesson).balance == 1
    later = week.lesson_in(hours=6)
    assert "Use a sick pass (1 left this term)" in parent.get(f"/family/lessons/{later.pk}/").content.decode()


def test_when_the_notice_window_closes_while_the_page_is_open_nothing_is_cancelled_and_the_page_says_it_again(week):
    """Shown "with notice", sent once late: without the check, a parent would lose a credit they were promised."""
    lesson = week.lesson_in(hours=5)

    response = signed_in(week.parent).post(f"/family/lessons/{lesson.pk}/cancel/", {"shown_late": "False"})

    assert response.status_code == 200
    assert "What cancelling means has changed since the page opened" in response.content.decode()
    lesson.refresh_from_db()
    assert lesson.outcome == ""


def test_a_cancel_sent_once_the_lesson_has_started_is_refused_on_the_page(week):
    lesson = week.lesson_in(hours=-0.1)

    response = signed_in(week.parent).post(f"/family/lessons/{lesson.pk}/cancel/", {"shown_late": "True"})

    assert response.status_code == 200
    assert "This lesson has already started; please call the school." in response.content.decode()
    lesson.refresh_from_db()
    assert lesson.outcome == ""


# Rescheduling


def test_a_reschedule_cancels_and_books_the_makeup_in_one_step(week):
    lesson = week.lesson_in(hours=72)
    parent = signed_in(week.parent)
    page = parent.get(f"/family/lessons/{lesson.pk}/").content.decode()
    probe = MakeupCredit(  # the credit the cancellation would issue, to read the same offers as the page
        enrollment=week.enrollment, instrument=week.student.instrument, lesson_minutes=30, expires_on=week.term.end_date
    )
    offer = makeup_slots_offer(credit=probe)[3]
    assert f'value="{slot(offer)}"' in page

    response = parent.post(f"/family/lessons/{lesson.pk}/reschedule/", {"slot": slot(offer)}, follow=True)

    assert response.redirect_chain[-1][0] == "/family/"
    makeup = Lesson.objects.get(kind=Lesson.Kind.MAKEUP)
    assert makeup.start_at == offer.start_at and makeup.student == week.student
    assert f"Rescheduled: the make-up is on {local(makeup.start_at, 'l j F, g:i A')}" in response.content.decode()
    lesson.refresh_from_db()
    credit = credits_with_balance().get(missed_lesson=lesson)
    assert lesson.outcome == Outcome.CANCELLED_WITH_NOTICE and credit.balance == 0  # issued, then redeemed


def test_a_reschedule_to_a_time_no_longer_offered_leaves_the_lesson_as_it_was(week):
    lesson = week.lesson_in(hours=72)
    taken = week.lesson_in(hours=100)  # the child's own lesson: not a make-up time

    response = signed_in(week.parent).post(
        f"/family/lessons/{lesson.pk}/reschedule/", {"slot": f"{week.teacher.pk}@{taken.start_at.isoformat()}"}
    )

    assert response.status_code == 200
    assert "That make-up time is no longer available; please choose another." in response.content.decode()
    assert 'name="slot"' in response.content.decode()  # the times again, to choose another
    lesson.refresh_from_db()
    assert lesson.outcome == "" and not MakeupCredit.objects.exists()
    assert not Lesson.objects.filter(kind=Lesson.Kind.MAKEUP).exists()


# Credits and booking


def test_the_credits_page_lists_open_credits_to_book_and_the_used_ones_with_their_history(week):
    used_for = week.lesson_in(hours=72)
    lesson_cancel_by_family(lesson=used_for, actor=week.parent)
    used = MakeupCredit.objects.get(missed_lesson=used_for)
    offer = makeup_slots_offer(credit=used)[0]
    makeup = makeup_book(credit=used, teacher=offer.teacher, start_at=offer.start_at, actor=week.parent)
    open_credit = granted(week)

    page = signed_in(week.parent).get("/family/credits/").content.decode()

    open_part, _, history = page.partition("Used and expired")
    assert f'href="/family/credits/{open_credit.pk}/book/"' in open_part
    assert f"Use by <strong>{open_credit.expires_on:%-d %B %Y}</strong>" in open_part
    assert f"/family/credits/{used.pk}/book/" not in page
    assert "(used)" in history and f"used for the make-up of {local(makeup.start_at, 'D j M, g:i A')}" in history


def test_booking_page_offers_times_by_day_and_books_one(week):
    credit = granted(week)
    offers = makeup_slots_offer(credit=credit)
    parent = signed_in(week.parent)

    page = parent.get(f"/family/credits/{credit.pk}/book/").content.decode()
    first_day = timezone.localtime(offers[0].start_at)
    assert f"<legend>{first_day:%A} {first_day.day} {first_day:%B}</legend>" in page
    assert page.count('name="slot"') == len(offers)
    label = f"{local(offers[0].start_at, 'g:i A')} with {week.teacher} (the teacher's free time)"
    assert escape(label) in page

    response = parent.post(f"/family/credits/{credit.pk}/book/", {"slot": slot(offers[1])}, follow=True)

    assert response.redirect_chain[-1][0] == "/family/"
    makeup = Lesson.objects.get(kind=Lesson.Kind.MAKEUP)
    assert makeup.start_at == offers[1].start_at and balance(credit) == 0
    assert f'href="/family/lessons/{makeup.pk}/"' in response.content.decode()  # on the home page's next lessons
    [email] = EmailLog.objects.filter(template="makeup_booked")
    assert f"make-up lesson is booked with {week.teacher}" in email.text_body


def test_a_time_taken_meanwhile_is_a_clear_error_and_the_page_stays_usable(week):
    credit = granted(week)
    other_parent, _, other_enrollment = week.another_family()
    theirs = granted(week, enrollment=other_enrollment)
    offer = makeup_slots_offer(credit=credit)[0]
    makeup_book(credit=theirs, teacher=offer.teacher, start_at=offer.start_at, actor=other_parent)

    response = signed_in(week.parent).post(f"/family/credits/{credit.pk}/book/", {"slot": slot(offer)})

    page = response.content.decode()
    assert response.status_code == 200 and "That make-up time is no longer available" in page
    assert f'value="{slot(offer)}"' not in page and 'name="slot"' in page
    assert balance(credit) == 1


def test_the_booking_page_narrows_to_a_day_says_what_it_cannot_read_and_refuses_a_made_up_time(week):
    credit = granted(week)
    offers = makeup_slots_offer(credit=credit)
    day = timezone.localtime(offers[-1].start_at).date()
    parent = signed_in(week.parent)

    that_day = parent.get(f"/family/credits/{credit.pk}/book/?day={day}").content.decode()
    unreadable = parent.get(f"/family/credits/{credit.pk}/book/?day=someday").content.decode()
    made_up = parent.post(f"/family/credits/{credit.pk}/book/", {"slot": "nonsense"}).content.decode()

    on_day = [o for o in makeup_slots_offer(credit=credit, day=day)]
    assert that_day.count('name="slot"') == len(on_day) and f'value="{slot(on_day[-1])}"' in that_day
    assert "Enter a valid date." in unreadable and unreadable.count('name="slot"') == len(offers)
    assert "Choose one of the times offered." in made_up and balance(credit) == 1


def test_another_familys_credit_is_404_even_for_a_time_it_could_book(week):
    credit = granted(week)
    offer = makeup_slots_offer(credit=credit)[0]
    other_parent, _, _ = week.another_family()

    response = signed_in(other_parent).post(f"/family/credits/{credit.pk}/book/", {"slot": slot(offer)})

    assert response.status_code == 404 and balance(credit) == 1


def test_a_lesson_marked_already_is_said_so_and_left_as_it_is(week):
    lesson = week.lesson_in(hours=-2)
    Lesson.objects.filter(pk=lesson.pk).update(outcome=Outcome.ATTENDED, status=Lesson.Status.COMPLETED)
    parent = signed_in(week.parent)

    for action, data in (("cancel", {"shown_late": "True"}), ("reschedule", {"slot": "1@x"})):
        response = parent.post(f"/family/lessons/{lesson.pk}/{action}/", data, follow=True)
        assert "This lesson is already marked attended." in response.content.decode(), action
    lesson.refresh_from_db()
    assert lesson.outcome == Outcome.ATTENDED


def test_a_late_cancellation_fee_of_a_per_lesson_plan_is_shown_before_confirming(week):
    school_settings_update(school_settings=school_settings_get(), lesson_fees_enabled=True, sick_passes_per_term=0)
    plan = week.enrollment.tuition_plan
    plan.basis, plan.price_cents = "per_lesson", 4000
    plan.save()
    lesson_cancel_by_family(lesson=week.lesson_in(hours=3), actor=week.parent)  # the first, waived
    lesson = week.lesson_in(hours=5)

    page = signed_in(week.parent).get(f"/family/lessons/{lesson.pk}/").content.decode()

    assert "A late cancellation fee of $20.00 CAD applies (the school reviews it before it is charged)." in page


def test_a_used_credit_cannot_book_and_says_why(week):
    credit = granted(week)
    offer = makeup_slots_offer(credit=credit)[0]
    makeup_book(credit=credit, teacher=offer.teacher, start_at=offer.start_at, actor=week.parent)

    page = signed_in(week.parent).get(f"/family/credits/{credit.pk}/book/").content.decode()

    assert "This credit has been used or has expired." in page and 'name="slot"' not in page


def test_a_booked_makeup_cancelled_with_notice_gives_the_credit_back_once(week):
    credit = granted(week)
    offer = makeup_slots_offer(credit=credit)[-1]  # days ahead: with notice
    makeup = makeup_book(credit=credit, teacher=offer.teacher, start_at=offer.start_at, actor=week.parent)
    parent = signed_in(week.parent)

    page = parent.get(f"/family/lessons/{makeup.pk}/").content.decode()
    assert f"you get a make-up credit for a 30-minute lesson, to use by <strong>{credit.expires_on:%-d %B %Y}" in page
    parent.post(f"/family/lessons/{makeup.pk}/cancel/", {"shown_late": "False"})
    parent.post(f"/family/lessons/{makeup.pk}/cancel/", {"shown_late": "False"})

    assert balance(credit) == 1
    assert list(credit.entries.values_list("kind", flat=True)) == ["issued", "redeemed", "returned"]
    [email] = EmailLog.objects.filter(template="lesson_cancelled")
    assert "The make-up credit is yours again" in email.text_body


def test_a_late_cancelled_makeup_is_forfeited_and_the_page_says_so_first(week):
    school_settings_update(school_settings=school_settings_get(), makeup_notice_hours=2, sick_passes_per_term=0)
    credit = granted(week)
    offer = next(o for o in makeup_slots_offer(credit=credit) if o.start_at < timezone.now() + timedelta(hours=20))
    makeup = makeup_book(credit=credit, teacher=offer.teacher, start_at=offer.start_at, actor=week.parent)
    parent = signed_in(week.parent)

    page = parent.get(f"/family/lessons/{makeup.pk}/").content.decode()
    assert "no make-up credit comes with it: a make-up cancelled late is forfeited" in page
    parent.post(f"/family/lessons/{makeup.pk}/cancel/", {"shown_late": "True"})

    makeup.refresh_from_db()
    assert makeup.outcome == Outcome.LATE_CANCEL and balance(credit) == 0


# All lessons


def test_all_lessons_newest_first_with_notes_paginated(week):
    lessons = [week.lesson_in(hours=-24 * day) for day in range(1, 23)]
    Lesson.objects.filter(pk=lessons[0].pk).update(family_note="Try the left hand alone.")
    parent = signed_in(week.parent)

    first = parent.get("/family/lessons/").content.decode()
    second = parent.get("/family/lessons/?page=2").content.decode()

    assert first.index(f"/family/lessons/{lessons[0].pk}/") < first.index(f"/family/lessons/{lessons[1].pk}/")
    assert "Try the left hand alone." in first and "Page 1 of 2" in first
    assert f"/family/lessons/{lessons[-1].pk}/" in second and f"/family/lessons/{lessons[0].pk}/" not in second
