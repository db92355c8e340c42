"""Enrollment's pipelines: their steps (`enrollment.steps`) in order, and the entry points that run them.

- `enrollment_submit`: an online form (or the owner, or the API) to a booked demo lesson. validate_enrollment →
  create_family_account → assign_teacher → book_demo_lesson → queue_welcome_emails → hand_off_to_billing.
- `waitlist_offer`: a waitlisted child offered the first free slot. check_still_waitlisted → assign_teacher →
  book_demo_lesson → queue_offer_emails.

Each run is one durable transaction (the runner's) and is recorded, so the owner sees it in the admin: a failure
anywhere leaves no rows and sends nothing, and the failed run is still recorded. Emails and billing leave only
after commit. A replayed submission (the same idempotency key) returns the same enrollments.
"""

import uuid

from django.db import IntegrityError, OperationalError

from accounts.models import User
from cedarheights.errors import TryAgain
from cedarheights.pipeline import run_pipeline
from cedarheights.selectors import privacy_notice_current
from enrollment.inputs import EnrollmentInput
from enrollment.models import Enrollment
from enrollment.selectors import submission_enrollments
from enrollment.signals import enrollment_card_offered
from enrollment.steps import (
    EnrollmentContext,
    assign_teacher,
    book_demo_lesson,
    check_still_waitlisted,
    create_family_account,
    hand_off_to_billing,
    queue_offer_emails,
    queue_welcome_emails,
    validate_enrollment,
)

SUBMIT_ATTEMPTS = 3  # whole runs of a submission that PostgreSQL ended for a concurrent transaction
ENDED_FOR_A_CONCURRENT_TRANSACTION = {"40P01", "40001"}  # deadlock_detected, serialization_failure

STEPS = (
    validate_enrollment,
    create_family_account,
    assign_teacher,
    book_demo_lesson,
    queue_welcome_emails,
    hand_off_to_billing,
)

WAITLIST_OFFER_STEPS = (check_still_waitlisted, assign_teacher, book_demo_lesson, queue_offer_emails)


def enrollment_submit(
    *, form: EnrollmentInput, idempotency_key: uuid.UUID, user: User | None = None, site_url: str = ""
) -> list[Enrollment]:
    """Run the pipeline once per idempotency key; a replay (even a concurrent one) returns the same enrollments.

    `user` is who sends it, when signed in: a parent enrolls into their own family; the owner (by phone) or an API
    user enrolls a new family, and the account's audit rows name them.

    A run PostgreSQL ended to let a concurrent transaction through (a deadlock or a serialization failure)
    left no rows: it runs again whole, a bounded number of times, then the parent is asked to send it again.

    The card is offered first (`enrollment_card_offered`: billing checks it with Stripe), outside the transaction
    (Stripe may be slow or away): a card Stripe refuses is an error on it, Stripe out of reach a "try again", and
    either way nothing is written.
    An anonymous submission with an address that has an account books nothing and returns no enrollments.
    """
    if done := submission_enrollments(idempotency_key=idempotency_key):
        return done
    # Read before the run's transaction: a database with no notice yet publishes the first one now, committed, so
    # concurrent runs never race to publish it inside theirs.
    current_notice = privacy_notice_current()
    if form.payment_method_id:
        enrollment_card_offered.send(sender=Enrollment, payment_method_id=form.payment_method_id)
    for _attempt in range(SUBMIT_ATTEMPTS):
        if done := submission_enrollments(idempotency_key=idempotency_key):
            return done
        ctx = EnrollmentContext(
            form=form, idempotency_key=idempotency_key, user=user, site_url=site_url, notice=current_notice
        )
        try:
            run_pipeline("enrollment", STEPS, ctx)
        except IntegrityError:
            if done := submission_enrollments(idempotency_key=idempotency_key):
                return done  # a concurrent replay committed first
            raise
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) not in ENDED_FOR_A_CONCURRENT_TRANSACTION:
                raise
            continue
        return ctx.enrollments
    raise TryAgain("Many families are enrolling at this moment: please send the form again.")


def waitlist_offer(*, enrollment: Enrollment) -> Enrollment:
    """Offer a waitlisted child the first free slot now (a teacher freed one), by the rules of enrollment; the
    enrollment as it stands after, still waitlisted when nothing fits. `NotWaitlisted` when it is not waitlisted.

    Billing is not started here: the owner starts it from the family's page once a card is on file.
    """
    ctx = EnrollmentContext(
        form=EnrollmentInput(
            children=[],
            windows=[],  # the enrollment's own, read under its lock (check_still_waitlisted)
            tuition_plan_id=enrollment.tuition_plan_id,
            consent=True,
            payment_method_id="",
        ),
        idempotency_key=enrollment.submission_key or uuid.uuid4(),
        enrollments=[enrollment],
    )
    run_pipeline("waitlist_offer", WAITLIST_OFFER_STEPS, ctx, reference=f"enrollment:{enrollment.pk}")
    return ctx.enrollments[0]
