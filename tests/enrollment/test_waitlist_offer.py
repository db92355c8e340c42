"""Offering a waitlisted child a slot is a recorded pipeline, like an enrollment: the owner sees each run and its
steps in the admin, and a failed offer leaves no rows but its run."""

import functools
import uuid
from datetime import time

import pytest
from django.apps import apps
from django.core import mail

from cedarheights.models import PipelineRun, StepRun
from enrollment import pipelines
from enrollment.errors import NotWaitlisted
from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit, waitlist_offer
from scheduling.slots import Window
from tests.factories import AvailabilityFactory, EnrollmentInputFactory

pytestmark = pytest.mark.django_db
OFFER_STEPS = ["check_still_waitlisted", "assign_teacher", "book_demo_lesson", "queue_offer_emails"]


@pytest.fixture
def waiting(school_ready) -> Enrollment:
    """Lucia, waitlisted for Fridays 16:00–17:00 while her teacher was full; a place has opened since."""
    teacher = school_ready["teacher"]
    AvailabilityFactory(teacher=teacher, weekday=4, start_time="16:00", end_time="17:00")
    teacher.capacity = 0
    teacher.save()
    windows = [Window(4, time(16), time(17))]
    [enrollment] = enrollment_submit(form=EnrollmentInputFactory(windows=windows), idempotency_key=uuid.uuid4())
    assert enrollment.status == Enrollment.Status.WAITLISTED
    teacher.capacity = 20
    teacher.save()
    mail.outbox.clear()
    return enrollment


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m not in {PipelineRun, StepRun}}


def test_an_offer_books_the_demo_lesson_tells_the_family_and_the_teacher_and_is_recorded_step_by_step(
    waiting, school_ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        offered = waitlist_offer(enrollment=waiting)

    assert offered.status == Enrollment.Status.ACTIVE and offered.demo_lesson.start_at.weekday() == 4
    assert {tuple(m.to) for m in mail.outbox} == {("new.parent@example.com",), (school_ready["teacher"].user.email,)}
    run = PipelineRun.objects.get(pipeline="waitlist_offer")
    assert (run.status, run.reference) == (PipelineRun.Status.SUCCEEDED, f"enrollment:{waiting.pk}")
    assert [s.name for s in run.steps.order_by("position")] == OFFER_STEPS


def test_the_owner_sees_an_offers_run_named_by_its_enrollment(waiting, owner_client):
    waitlist_offer(enrollment=waiting)

    page = owner_client.get("/admin/cedarheights/pipelinerun/").content.decode()
    assert f"/admin/enrollment/enrollment/{waiting.pk}/change/" in page and "Lucia Lopez" in page


def test_an_offer_that_finds_no_slot_keeps_the_child_waitlisted_writes_to_no_one_and_is_recorded(
    waiting, school_ready, django_capture_on_commit_callbacks
):
    school_ready["teacher"].capacity = 0  # full again
    school_ready["teacher"].save()

    with django_capture_on_commit_callbacks(execute=True):
        offered = waitlist_offer(enrollment=waiting)

    assert offered.status == Enrollment.Status.WAITLISTED and offered.demo_lesson is None
    assert mail.outbox == []
    assert PipelineRun.objects.get(pipeline="waitlist_offer").status == PipelineRun.Status.SUCCEEDED


class InjectedFault(Exception):
    pass


def failing_after(step):
    @functools.wraps(step)  # the run records the real step's name
    def run_then_fail(ctx):
        step(ctx)
        raise InjectedFault(f"injected after {step.__name__}")

    return run_then_fail


def test_an_offer_failing_at_its_last_step_leaves_no_rows_sends_nothing_and_is_recorded(
    waiting, monkeypatch, django_capture_on_commit_callbacks
):
    steps = (*pipelines.WAITLIST_OFFER_STEPS[:-1], failing_after(pipelines.WAITLIST_OFFER_STEPS[-1]))
    monkeypatch.setattr(pipelines, "WAITLIST_OFFER_STEPS", steps)
    before = row_counts()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InjectedFault):
        waitlist_offer(enrollment=waiting)

    assert row_counts() == before and mail.outbox == []
    waiting.refresh_from_db()
    assert waiting.status == Enrollment.Status.WAITLISTED and waiting.demo_lesson is None
    run = PipelineRun.objects.get(pipeline="waitlist_offer")
    assert (run.status, run.failed_step) == (PipelineRun.Status.FAILED, "queue_offer_emails")
    assert [s.name for s in run.steps.order_by("position")] == OFFER_STEPS


def test_an_offer_to_a_child_no_longer_waitlisted_is_refused_and_recorded(waiting):
    Enrollment.objects.filter(pk=waiting.pk).update(status=Enrollment.Status.CANCELLED)

    with pytest.raises(NotWaitlisted):
        waitlist_offer(enrollment=waiting)

    run = PipelineRun.objects.get(pipeline="waitlist_offer")
    assert (run.status, run.failed_step) == (PipelineRun.Status.FAILED, "check_still_waitlisted")
    assert not waiting.student.lessons.exists()
