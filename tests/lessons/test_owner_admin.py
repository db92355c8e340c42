"""The owner's side of the lesson week in the admin (issue 15 §6): make-up credits with their ledgers (extend, void,
give), pending fees (waive), teachers' cancellations awaiting a decision (a substitute, or the credit stands), the
policy settings, closing a day, and the dashboard's counts. Each page answers the owner and keeps everyone else out.
"""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import LedgerEntry, LessonFee
from billing.services.lesson_fees import lesson_fees_post_due
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import school_settings_update
from enrollment.credits import credits_with_balance
from enrollment.makeups import lesson_cancel_by_family
from enrollment.models import MakeupCredit, MakeupCreditEntry, TuitionPlan
from scheduling.models import Closure, Lesson, TeacherCancellation
from scheduling.outcomes import Outcome
from scheduling.services import lesson_create, lesson_outcome_set, lesson_teacher_cancel
from tests.factories import AvailabilityFactory, TeacherFactory, TuitionPlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(owner_client):
    return User.objects.get(email="owner@example.com")


def page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


def credit_for(week, hours: int = 72) -> MakeupCredit:
    lesson = week.lesson_in(hours=hours + 24 * len(week.made))
    lesson_cancel_by_family(lesson=lesson, actor=week.parent)
    return MakeupCredit.objects.get(missed_lesson=lesson)


def pending_fee(week) -> LessonFee:
    week.enrollment.tuition_plan = TuitionPlanFactory(basis=TuitionPlan.Basis.PER_LESSON, price_cents=4_000)
    week.enrollment.save(update_fields=["tuition_plan"])
    school_settings_update(school_settings=school_settings_get(), lesson_fees_enabled=True)
    lesson = week.lesson_in(hours=-3 - 24 * len(week.made))
    lesson_outcome_set(lesson=lesson, outcome=Outcome.NO_SHOW, actor=week.teacher.user)
    return LessonFee.objects.get(lesson=lesson)


# Make-up credits


def test_the_credits_list_shows_each_credit_with_its_balance_and_finds_it_by_child(week, owner_client):
    credit = credit_for(week)

    listing = page(owner_client, reverse("admin:enrollment_makeupcredit_changelist"), q=week.student.first_name)

    assert str(week.parent.family) in listing and str(week.student) in listing
    assert f"{credit.instrument}, 30 min" in listing and "Available" in listing
    assert reverse("admin:enrollment_makeupcredit_extend", args=[credit.pk]) in listing
    assert "Give a make-up credit" in listing


def test_a_credits_page_shows_its_ledger_and_the_extend_and_void_buttons(week, owner_client):
    credit = credit_for(week)

    shown = page(owner_client, reverse("admin:enrollment_makeupcredit_change", args=[credit.pk]))

    assert "Cancelled with notice" in shown and "Issued" in shown  # the ledger's first line, inline
    assert reverse("admin:enrollment_makeupcredit_void", args=[credit.pk]) in shown


def test_the_owner_extends_a_credit_with_a_reason(week, owner_client):
    credit = credit_for(week)
    later = credit.expires_on + timedelta(days=30)

    response = owner_client.post(
        reverse("admin:enrollment_makeupcredit_extend", args=[credit.pk]),
        {"expires_on": later.isoformat(), "reason": "Away for a month"},
    )

    assert response.status_code == 302
    credit.refresh_from_db()
    assert credit.expires_on == later
    assert credit.entries.order_by("-sequence").first().kind == MakeupCreditEntry.Kind.EXTENDED


def test_an_extension_to_an_earlier_date_is_a_form_error_keeping_what_was_typed(week, owner_client):
    credit = credit_for(week)
    earlier = credit.expires_on - timedelta(days=1)

    response = owner_client.post(
        reverse("admin:enrollment_makeupcredit_extend", args=[credit.pk]),
        {"expires_on": earlier.isoformat(), "reason": "Typed by hand"},
    )

    assert response.status_code == 200
    assert "After " in response.context["form"].errors["expires_on"][0]
    assert b"Typed by hand" in response.content
    credit.refresh_from_db()
    assert credit.expires_on > earlier


def test_the_owner_voids_a_credit_and_it_cannot_be_voided_twice(week, owner_client):
    credit = credit_for(week)
    url = reverse("admin:enrollment_makeupcredit_void", args=[credit.pk])

    assert owner_client.post(url, {"reason": "Given by mistake"}).status_code == 302
    again = owner_client.post(url, {"reason": "Again"})

    assert credits_with_balance().get(pk=credit.pk).balance == 0
    assert again.status_code == 200 and "Only an unused credit" in str(again.context["form"].non_field_errors())


def test_the_owner_gives_a_goodwill_credit_from_the_familys_page(week, owner_client):
    family_page = page(owner_client, reverse("admin:accounts_family_change", args=[week.parent.family_id]))
    grant = reverse("admin:enrollment_makeupcredit_grant")
    assert f"{grant}?family={week.parent.family_id}" in family_page
    form = owner_client.get(grant, {"family": week.parent.family_id}).context["form"]
    assert list(form.fields["enrollment"].queryset) == [week.enrollment]

    response = owner_client.post(
        f"{grant}?family={week.parent.family_id}",
        {"enrollment": week.enrollment.pk, "goodwill": "on", "lesson_minutes": "", "reason": "Sorry for the mix-up"},
    )

    assert response.status_code == 302
    credit = credits_with_balance().get(enrollment=week.enrollment)
    assert (credit.origin, credit.counts_toward_cap, credit.balance) == ("goodwill", False, 1)
    family_page = page(owner_client, reverse("admin:accounts_family_change", args=[week.parent.family_id]))
    assert "Goodwill (not counted)" in family_page and "Available" in family_page


def test_a_grant_without_a_reason_keeps_the_form(week, owner_client):
    response = owner_client.post(reverse("admin:enrollment_makeupcredit_grant"), {"enrollment": week.enrollment.pk})

    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert not MakeupCredit.objects.exists()


# Pending fees


def test_the_fees_list_opens_on_the_pending_ones_with_when_they_post(week, owner_client):
    fee = pending_fee(week)

    response = owner_client.get(reverse("admin:billing_lessonfee_changelist"), follow=True)

    assert response.redirect_chain[0][0].endswith("?status__exact=pending")
    assert [shown.pk for shown in response.context["cl"].result_list] == [fee.pk]
    assert "in 24 h" in response.content.decode() or "in 23 h" in response.content.decode()


def test_the_owner_waives_a_posted_fee_and_the_adjustment_shows_in_the_familys_ledger(week, owner_client):
    fee = pending_fee(week)
    LessonFee.objects.filter(pk=fee.pk).update(posts_at=timezone.now())
    lesson_fees_post_due()

    chosen = owner_client.post(
        reverse("admin:billing_lessonfee_changelist") + "?status__exact=posted",
        {"action": "waive_selected", "_selected_action": [fee.pk]},
    )
    assert chosen.status_code == 302
    waive_page = page(owner_client, chosen.url)
    assert str(week.student) in waive_page
    done = owner_client.post(chosen.url, {"note": "First no-show: a warning"})

    assert done.status_code == 302
    fee.refresh_from_db()
    assert (fee.status, fee.note) == ("waived", "First no-show: a warning")
    ledger = page(owner_client, reverse("admin:billing_ledgerentry_changelist"), family__id__exact=fee.family_id)
    assert f"lesson-fee-reversal:{fee.pk}" in ledger and f"lesson-fee:{fee.pk}" in ledger
    assert LedgerEntry.objects.filter(family=fee.family, kind="adjustment", amount_cents=-4_000).exists()


def test_a_waiver_without_a_note_is_a_form_error(week, owner_client):
    fee = pending_fee(week)
    url = reverse("admin:billing_lessonfee_waive") + f"?ids={fee.pk}"

    response = owner_client.post(url, {"note": ""})

    assert response.status_code == 200 and "note" in response.context["form"].errors
    fee.refresh_from_db()
    assert fee.status == LessonFee.Status.PENDING


# Teacher cancellations


@pytest.fixture
def cancelled_by_teacher(week):
    """The week's teacher cancels a lesson at noon in two days. Ana teaches piano then and is free; Ben teaches piano
    then and is busy; Cleo teaches piano but not at that time."""
    lesson = week.lesson_on(school_today() + timedelta(days=2))
    lesson_teacher_cancel(lesson=lesson, actor=week.teacher.user, reason="Flu")
    ana, ben, cleo = (TeacherFactory(user__first_name=name) for name in ("Ana", "Ben", "Cleo"))
    for teacher in (ana, ben):
        for weekday in range(7):
            AvailabilityFactory(teacher=teacher, weekday=weekday, start_time="08:00", end_time="21:00")
    _, other_child, _ = week.another_family()
    lesson_create(teacher=ben, student=other_child, start_at=lesson.start_at, end_at=lesson.end_at)
    return TeacherCancellation.objects.get(lesson=lesson), ana, ben, cleo


def test_the_cancellations_list_puts_those_awaiting_a_decision_first(week, owner_client, cancelled_by_teacher):
    pending = cancelled_by_teacher[0]
    decided = TeacherCancellation.objects.create(
        lesson=week.lesson_in(hours=96), teacher=week.teacher, reason="Old", decision="credit"
    )
    TeacherCancellation.objects.filter(pk=decided.pk).update(reported_at=timezone.now() + timedelta(hours=1))

    response = owner_client.get(reverse("admin:scheduling_teachercancellation_changelist"))

    assert [shown.pk for shown in response.context["cl"].result_list] == [pending.pk, decided.pk]
    assert reverse("admin:scheduling_teachercancellation_decide", args=[pending.pk]) in response.content.decode()


def test_the_substitute_form_lists_only_teachers_of_the_instrument_free_then(owner_client, cancelled_by_teacher):
    cancellation, ana, _, cleo = cancelled_by_teacher  # Ben is busy then

    response = owner_client.get(reverse("admin:scheduling_teachercancellation_decide", args=[cancellation.pk]))

    choices = dict(response.context["form"].fields["substitute"].choices)
    labels = [str(label) for label in choices.values()]
    assert labels == [str(ana), f"{cleo} (outside their weekly hours)"]
    assert "Flu" in response.content.decode()


def test_the_owner_assigns_a_substitute_and_the_lesson_is_kept_with_them(week, owner_client, cancelled_by_teacher):
    cancellation, ana, _, _ = cancelled_by_teacher
    url = reverse("admin:scheduling_teachercancellation_decide", args=[cancellation.pk])

    response = owner_client.post(url, {"substitute": ana.pk})

    assert response.status_code == 302
    cancellation.refresh_from_db()
    lesson = Lesson.objects.get(pk=cancellation.lesson_id)
    assert (cancellation.decision, cancellation.substitute) == ("substitute", ana)
    assert (lesson.teacher, lesson.outcome) == (ana, "")
    assert credits_with_balance().get(missed_lesson=lesson).balance == 0  # the family's credit taken back


def test_a_busy_substitute_is_refused_on_the_form(owner_client, cancelled_by_teacher):
    cancellation, _, ben, _ = cancelled_by_teacher

    response = owner_client.post(
        reverse("admin:scheduling_teachercancellation_decide", args=[cancellation.pk]), {"substitute": ben.pk}
    )

    assert response.status_code == 200 and "substitute" in response.context["form"].errors
    cancellation.refresh_from_db()
    assert cancellation.decision == "pending"


def test_the_owner_lets_the_credit_stand(owner_client, cancelled_by_teacher):
    cancellation = cancelled_by_teacher[0]

    response = owner_client.post(
        reverse("admin:scheduling_teachercancellation_decide", args=[cancellation.pk]), {"credit_stands": "1"}
    )

    assert response.status_code == 302
    cancellation.refresh_from_db()
    assert cancellation.decision == "credit"
    assert credits_with_balance().get(missed_lesson=cancellation.lesson).balance == 1


# Settings, the lesson's outcome table, closing a day


def test_the_policy_settings_are_grouped(owner_client):
    shown = page(owner_client, reverse("admin:cedarheights_schoolsettings_change", args=[1]))

    cancellations, fees = shown.index("Cancellations and make-ups</h2>"), shown.index("Lesson fees</h2>")
    assert cancellations < shown.index("cancellation_notice_hours") < shown.index("makeup_any_teacher") < fees
    assert fees < shown.index("no_show_fee_percent") < shown.index("fee_review_hours")


def test_the_lesson_form_explains_each_outcome_in_a_table(week, owner_client):
    lesson = week.lesson_in(hours=24)

    shown = page(owner_client, reverse("admin:scheduling_lesson_change", args=[lesson.pk]))

    table = shown[shown.index('<table class="outcome-flags">') :]
    assert '<th scope="row">School closed</th><td>no</td><td>yes / no</td><td>no</td>' in table
    assert "a credit, never capped" in table


def test_closing_a_day_shows_what_it_touches_then_closes_it_on_confirmation(week, owner_client):
    day = timezone.localdate(timezone=school_settings_get().zone) + timedelta(days=2)
    start = datetime.combine(day, time(17), tzinfo=school_settings_get().zone)
    lesson = lesson_create(
        teacher=week.teacher, student=week.student, start_at=start, end_at=start + timedelta(minutes=30)
    )
    url = reverse("admin:scheduling_closure_close_day")
    assert 'for="id_day"' in page(owner_client, url) and 'for="id_reason"' in page(owner_client, url)

    preview = owner_client.post(url, {"day": day.isoformat(), "reason": "Ice storm", "preview": "1"})

    assert preview.status_code == 200 and [shown.pk for shown in preview.context["preview"].lessons] == [lesson.pk]
    assert str(week.parent.family) in preview.content.decode() and not Closure.objects.exists()

    other_day = (day + timedelta(days=1)).isoformat()
    changed = owner_client.post(url, {"day": other_day, "reason": "Ice storm", "confirm": "1", "previewed": day})
    assert changed.status_code == 200 and not Closure.objects.exists()  # a date changed after the preview: previewed
    done = owner_client.post(
        url, {"day": day.isoformat(), "reason": "Ice storm", "confirm": "1", "previewed": day.isoformat()}
    )

    assert done.status_code == 302
    lesson.refresh_from_db()
    assert lesson.outcome == Outcome.SCHOOL_CLOSED and Closure.objects.get().reason == "Ice storm"


def test_closing_a_day_without_a_reason_keeps_the_day_typed(owner_client):
    day = timezone.localdate() + timedelta(days=2)

    url = reverse("admin:scheduling_closure_close_day")

    response = owner_client.post(url, {"day": day.isoformat(), "confirm": "1"})

    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert day.isoformat().encode() in response.content and not Closure.objects.exists()


def test_a_day_out_of_reach_is_an_error_on_the_day(owner_client):
    far = timezone.localdate() + timedelta(days=900)

    response = owner_client.post(
        reverse("admin:scheduling_closure_close_day"), {"day": far.isoformat(), "reason": "Snow", "preview": "1"}
    )

    assert response.status_code == 200 and "day" in response.context["form"].errors


# The dashboard


def test_the_index_counts_what_awaits_the_owner_with_links_to_each_list(week, owner_client, cancelled_by_teacher):
    fee = pending_fee(week)
    expiring = credit_for(week)
    MakeupCredit.objects.filter(pk=expiring.pk).update(expires_on=timezone.localdate() + timedelta(days=5))
    unmarked = week.lesson_in(hours=-30 - 24 * len(week.made))

    response = owner_client.get(reverse("admin:index"))

    figures = response.context["figures"]
    assert figures["teacher_cancellations_pending"] == 1 and figures["pending_fees"] == 1
    assert figures["credits_expiring_soon"] == 1 and figures["lessons_unmarked"] == 1
    shown = response.content.decode()
    links = {
        "admin:scheduling_teachercancellation_changelist": ("?decision__exact=pending", cancelled_by_teacher[0]),
        "admin:billing_lessonfee_changelist": ("?status__exact=pending", fee),
        "admin:enrollment_makeupcredit_changelist": ("?expiring=soon", expiring),
        "admin:scheduling_lesson_changelist": ("?unmarked=overdue", unmarked),
    }
    for name, (query, expected) in links.items():
        url = reverse(name) + query
        assert f'href="{url}"' in shown, url
        assert [row.pk for row in owner_client.get(url).context["cl"].result_list] == [expected.pk], url
    assert reverse("admin:scheduling_closure_close_day") in shown


# Nobody else


OWNER_PAGES = [
    ("admin:enrollment_makeupcredit_changelist", []),
    ("admin:enrollment_makeupcredit_grant", []),
    ("admin:billing_lessonfee_changelist", []),
    ("admin:billing_lessonfee_waive", []),
    ("admin:scheduling_teachercancellation_changelist", []),
    ("admin:scheduling_closure_close_day", []),
]


@pytest.mark.parametrize("role", ["parent", "teacher"])
def test_a_parent_or_a_teacher_is_sent_to_the_sign_in_page(week, role, cancelled_by_teacher):
    credit = credit_for(week)
    client = Client()
    client.force_login(week.parent if role == "parent" else week.teacher.user)
    pages = [
        *OWNER_PAGES,
        ("admin:enrollment_makeupcredit_extend", [credit.pk]),
        ("admin:enrollment_makeupcredit_void", [credit.pk]),
        ("admin:scheduling_teachercancellation_decide", [cancelled_by_teacher[0].pk]),
    ]
    for name, args in pages:
        url = reverse(name, args=args)
        for response in (client.get(url), client.post(url, {"reason": "x", "note": "x", "credit_stands": "1"})):
            assert response.status_code == 302 and "/admin/login/" in response.url, url
    credit.refresh_from_db()
    assert credits_with_balance().get(pk=credit.pk).balance == 1
    assert TeacherCancellation.objects.get(pk=cancelled_by_teacher[0].pk).decision == "pending"
