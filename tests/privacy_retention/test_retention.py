from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from accounts.models import AccessRequest, CorrectionRequest, Family, User
from billing.models import LedgerEntry, Payment
from billing.retention import REMOVED_DESCRIPTION
from billing.selectors import SIGNED_AMOUNT, family_balance_cents
from cedarheights.models import AuditEvent, EmailLog
from cedarheights.privacy_retention import FINANCIAL, INACTIVE, LESSONS, retention_commit, retention_plan
from cedarheights.selectors import school_today
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student
from tests.factories import LedgerEntryFactory, UserFactory
from tests.privacy_retention.families import months_before_today, past_family, years_before_today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school")]


def ledger_totals() -> tuple[dict[int, int], int]:
    per_family = dict(
        LedgerEntry.objects.values("family_id").annotate(total=Sum(SIGNED_AMOUNT)).values_list("family_id", "total")
    )
    amounts = LedgerEntry.objects.aggregate(total=Sum("amount_cents"))["total"]
    return per_family, amounts


def snapshot() -> list:
    """Every row the retention job may write, as it is now."""
    return [
        list(Family.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values()),
        list(Student.objects.order_by("pk").values()),
        list(Lesson.objects.order_by("pk").values("pk", "notes", "family_note", "start_at", "outcome")),
        list(LedgerEntry.objects.order_by("pk").values()),
        list(Payment.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    ]


@pytest.fixture
def gone_three_years():
    """Left three years ago: the last lesson and the last paid month then, and a month from nine years ago."""
    gone = past_family(name="Nguyen family")
    gone.joined_on(years_before_today(9))
    gone.lesson_on(years_before_today(3))
    gone.paid_month_on(years_before_today(3))
    gone.paid_month_on(years_before_today(9))
    return gone


@pytest.fixture
def still_here():
    here = past_family(name="Okafor family", status=Enrollment.Status.ACTIVE)
    here.lesson_on(school_today() - timedelta(days=7))
    here.paid_month_on(years_before_today(9))
    return here


def test_the_dry_run_lists_the_family_past_its_period_with_reasons_and_writes_nothing(gone_three_years, still_here):
    before = snapshot()

    plan = retention_plan()

    changes = plan.changes_by_family()
    assert set(changes) == {gone_three_years.family.pk}
    kinds = {change.kind: change for change in changes[gone_three_years.family.pk]}
    assert set(kinds) == {LESSONS, FINANCIAL}
    assert "last lesson on" in kinds[LESSONS].reason and "2 years" in kinds[LESSONS].reason
    # Nine years ago: the charge, its payment's ledger line and the payment; three years ago: none.
    assert "3 descriptions" in kinds[FINANCIAL].what
    assert [held.family_id for held in plan.held] == [still_here.family.pk]
    assert snapshot() == before


def test_the_command_needs_one_of_its_two_flags_and_its_dry_run_prints_the_plan(gone_three_years, capsys):
    with pytest.raises(CommandError):
        call_command("privacy_retention")
    before = snapshot()

    call_command("privacy_retention", "--dry-run")

    printed = capsys.readouterr().out
    assert f"Family #{gone_three_years.family.pk} Nguyen family:" in printed and "lessons:" in printed
    assert snapshot() == before


def test_the_commit_anonymises_the_family_and_keeps_every_ledger_total(gone_three_years, still_here):
    totals_before = ledger_totals()
    balance_before = family_balance_cents(family_id=gone_three_years.family.pk)
    born = gone_three_years.student.date_of_birth
    lesson = gone_three_years.lessons[0]

    outcome = retention_commit()

    assert outcome.families_anonymised == [gone_three_years.family.pk]
    assert ledger_totals() == totals_before
    assert family_balance_cents(family_id=gone_three_years.family.pk) == balance_before
    family = Family.objects.get(pk=gone_three_years.family.pk)
    assert family.name == f"Former family #{family.pk}" and family.anonymised_at is not None
    assert (family.street, family.postal_code, family.emergency_contact_name, family.notes) == ("", "", "", "")
    parent = User.objects.get(pk=gone_three_years.parent.pk)
    assert parent.email.endswith("@anonymised.invalid") and parent.phone == "" and parent.first_name == "Former parent"
    assert not parent.is_active and not parent.has_usable_password()
    student = Student.objects.get(pk=gone_three_years.student.pk)
    assert student.first_name == "Former student" and student.notes == ""
    assert student.date_of_birth == date(born.year, 1, 1)
    kept = Lesson.objects.get(pk=lesson.pk)
    assert (kept.notes, kept.family_note) == ("", "")
    assert (kept.start_at, kept.outcome, kept.teacher_id) == (lesson.start_at, lesson.outcome, lesson.teacher_id)
    # Past the financial period: the description goes, the amount stays; within it, both stay.
    old, recent = (
        LedgerEntry.objects.filter(family=family, created_at__year=year)
        for year in (
            years_before_today(9).year,
            years_before_today(3).year,
        )
    )
    assert {entry.description for entry in old} == {REMOVED_DESCRIPTION}
    assert all(entry.description != REMOVED_DESCRIPTION for entry in recent)
    # The family still here keeps its names; only its nine-year-old descriptions would go, were it not enrolled.
    assert Family.objects.get(pk=still_here.family.pk).name == "Okafor family"
    assert LedgerEntry.objects.filter(family=still_here.family, description=REMOVED_DESCRIPTION).count() == 0


def test_a_second_commit_changes_nothing(gone_three_years, still_here):
    retention_commit()
    after_first = snapshot()

    outcome = retention_commit()

    assert outcome.families_anonymised == [] and outcome.families_descriptions_removed == []
    assert retention_plan().changes == []
    assert snapshot() == after_first


@pytest.mark.parametrize("request_kind", ["access", "correction"])
def test_a_family_on_legal_hold_is_untouched(gone_three_years, request_kind):
    family = gone_three_years.family
    if request_kind == "access":
        AccessRequest.objects.create(family=family, received_on=school_today())
    else:
        CorrectionRequest.objects.create(family=family, about="My son's name", requested_change="Spelling")
    before = snapshot()

    plan = retention_plan()
    retention_commit()

    assert plan.changes == [] and "legal hold" in plan.held[0].reason
    assert snapshot() == before


def test_once_the_request_is_answered_the_family_is_anonymised(gone_three_years):
    AccessRequest.objects.create(
        family=gone_three_years.family, received_on=school_today(), answered_on=school_today(), answer_note="Sent"
    )

    retention_commit()

    assert Family.objects.get(pk=gone_three_years.family.pk).anonymised_at is not None


def test_a_family_with_an_open_balance_or_a_running_enrollment_is_untouched(gone_three_years):
    LedgerEntryFactory(family=gone_three_years.family, amount_cents=2500, description="Late fee")
    second = past_family(name="Singh family", status=Enrollment.Status.PAUSED, teacher=gone_three_years.teacher)
    second.lesson_on(years_before_today(3, days=-1))
    before = snapshot()

    plan = retention_plan()
    retention_commit()

    held = {h.family_id: h.reason for h in plan.held}
    assert "open balance of 25.00" in held[gone_three_years.family.pk]
    assert "enrollment is still running" in held[second.family.pk]
    assert snapshot() == before


@pytest.mark.parametrize(("days", "due"), [(-1, True), (1, False)])
def test_lesson_records_go_just_past_two_years_after_the_last_lesson(days, due):
    family = past_family(name="Boundary family")
    family.joined_on(years_before_today(5))
    family.lesson_on(years_before_today(2, days=days))

    kinds = [change.kind for change in retention_plan().changes]

    assert kinds == ([LESSONS] if due else [])


def test_a_later_demo_lesson_keeps_a_family_with_regular_lessons_in_its_period():
    family = past_family(name="Came back for a demo")
    family.joined_on(years_before_today(5))
    family.lesson_on(years_before_today(4))
    family.lesson_on(years_before_today(1), kind=Lesson.Kind.DEMO)

    assert retention_plan().changes == []


@pytest.mark.parametrize(("days", "due"), [(-1, True), (1, False)])
def test_a_waitlisted_family_goes_just_past_twelve_months_after_its_last_activity(days, due):
    waiting = past_family(name="Waitlist family", status=Enrollment.Status.WAITLISTED)
    waiting.joined_on(months_before_today(12, days=days))

    changes = retention_plan().changes

    assert [change.kind for change in changes] == ([INACTIVE] if due else [])
    if due:
        retention_commit()
        assert Family.objects.get(pk=waiting.family.pk).name.startswith("Former family #")


@pytest.mark.parametrize(("months", "due"), [(11, False), (13, True)])
def test_a_demo_only_familys_last_activity_is_its_demo_lesson(months, due):
    demo_only = past_family(name="Demo only", status=Enrollment.Status.CANCELLED)
    demo_only.joined_on(months_before_today(20))
    demo_only.lesson_on(months_before_today(months), kind=Lesson.Kind.DEMO)

    assert [change.kind for change in retention_plan().changes] == ([INACTIVE] if due else [])


@pytest.mark.parametrize(("years_back", "due"), [(8, True), (7, False)])
def test_financial_descriptions_go_after_seven_years_from_the_end_of_their_year(years_back, due):
    """A line of 31 December eight years back is past (its year ended more than seven years ago); one of 1 January
    seven years back is within."""
    year = school_today().year - years_back
    day = date(year, 12, 31) if due else date(year, 1, 1)
    family = past_family(name="Ledger family")
    family.joined_on(day)
    family.lesson_on(years_before_today(1))  # their lessons are within their period: only the ledger is in question
    family.paid_month_on(day)

    retention_commit()

    descriptions = set(LedgerEntry.objects.filter(family=family.family).values_list("description", flat=True))
    assert (descriptions == {REMOVED_DESCRIPTION}) is due
    assert Family.objects.get(pk=family.family.pk).anonymised_at is None


def test_the_copies_of_the_emails_sent_to_an_anonymised_parent_go_and_others_stay(gone_three_years, still_here):
    sent_to_gone = EmailLog.objects.create(
        recipient=gone_three_years.parent.email.upper(),
        template="lesson_reminder",
        subject="Sigrid's lesson tomorrow",
        text_body="Hello Ingrid",
        status=EmailLog.Status.SENT,
    )
    sent_to_here = EmailLog.objects.create(
        recipient=still_here.parent.email, template="lesson_reminder", subject="Tomorrow", text_body="Hello"
    )

    retention_commit()

    sent_to_gone.refresh_from_db()
    assert sent_to_gone.recipient == User.objects.get(pk=gone_three_years.parent.pk).email
    assert (sent_to_gone.subject, sent_to_gone.text_body) == ("(removed under the retention schedule)", "")
    assert (sent_to_gone.template, sent_to_gone.status) == ("lesson_reminder", EmailLog.Status.SENT)
    assert EmailLog.objects.filter(pk=sent_to_here.pk).values_list("recipient", "text_body").get() == (
        still_here.parent.email,
        "Hello",
    )


def test_an_imported_familys_and_childs_external_ids_go_with_their_names(gone_three_years):
    """Made to fail first: an import's ids (a parent's email, a child's name and birthday) outlived the names."""
    Family.objects.filter(pk=gone_three_years.family.pk).update(external_id="mms:parent@example.com")
    Student.objects.filter(pk=gone_three_years.student.pk).update(external_id="mms:Ada Nguyen:2015-03-02")

    retention_commit()

    assert Family.objects.get(pk=gone_three_years.family.pk).external_id == ""
    assert Student.objects.get(pk=gone_three_years.student.pk).external_id == ""


def test_one_family_that_fails_is_rolled_back_and_the_others_are_still_done(gone_three_years):
    """Made to fail first: the first failing family stopped the night's run for every family after it."""
    other = past_family(name="Okonkwo family")
    other.lesson_on(years_before_today(3))
    other.paid_month_on(years_before_today(3))
    # The address the first family's parent would be given is taken: its anonymisation fails in the database.
    UserFactory(email=f"former-parent-{gone_three_years.parent.pk}@anonymised.invalid")

    outcome = retention_commit()

    assert outcome.families_failed == [gone_three_years.family.pk]
    assert outcome.families_anonymised == [other.family.pk]
    assert Family.objects.get(pk=gone_three_years.family.pk).anonymised_at is None
    assert Student.objects.get(pk=gone_three_years.student.pk).first_name != "Former student"
