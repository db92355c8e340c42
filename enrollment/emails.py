"""How enrollment's welcome emails are built: the parent's (each child's demo lesson, an .ics file each, the links)
and the teacher's. Which of them a submission or an offer sends is decided by the pipelines' steps.

`welcome_parent_rebuild` is registered on import (`@email_rebuilder`): `EnrollmentConfig.ready()` imports this
module, so every process (the web server, the worker, a shell) can resend a welcome email.
"""

import uuid

from django.conf import settings

from accounts.services import set_password_link_build
from cedarheights.emails import Attachment, email_queue, email_rebuilder
from cedarheights.errors import EmailNotResendable
from cedarheights.models import EmailLog
from enrollment.calendar import lesson_ics, lesson_ics_filename
from enrollment.confirmation import confirmation_path
from enrollment.models import Enrollment
from enrollment.selectors import enrollments_booked_until
from enrollment.tuition import enrollments_tuition_described


def demo_lesson_attachment(enrollment: Enrollment) -> Attachment:
    """The demo lesson as an .ics attachment."""
    return (lesson_ics_filename(enrollment.demo_lesson), lesson_ics(enrollment.demo_lesson), "text/calendar")


def welcome_teacher_queue(*, enrollment: Enrollment) -> None:
    """The teacher of a booked child: who is coming to the demo lesson, and when (.ics attached)."""
    email_queue(
        to=enrollment.demo_lesson.teacher.user.email,
        template="welcome_teacher",
        related=enrollment,
        dedupe_key=f"welcome-teacher:{enrollment.pk}",
        context={"enrollment": enrollment},
        attachments=[demo_lesson_attachment(enrollment)],
    )


def welcome_parent_content(
    *, enrollments: list[Enrollment], submission_key: uuid.UUID | None, site_url: str, set_password_url: str
) -> tuple[dict, list[Attachment]]:
    """The welcome email's context and its .ics files: each booked child's demo lesson, until when its weekly
    lessons are booked and what its tuition comes to, each waitlisted child."""
    booked = enrollments_booked_until(enrollments=[e for e in enrollments if e.status == Enrollment.Status.ACTIVE])
    enrollments_tuition_described(enrollments=booked)
    context = {
        "booked": booked,
        "waitlisted": [e for e in enrollments if e.status == Enrollment.Status.WAITLISTED],
        "set_password_url": set_password_url,
        "confirmation_url": site_url + confirmation_path(submission_key) if submission_key else "",
    }
    # A booked child may have no demo lesson (enrolled by the office, or its demo lesson deleted since).
    return context, [demo_lesson_attachment(e) for e in booked if e.demo_lesson is not None]


@email_rebuilder("welcome_parent")
def welcome_parent_rebuild(log: EmailLog) -> tuple[dict, list[Attachment]]:
    """A resent welcome email (`cedarheights.emails.email_resend`) says what is true now: the children of the
    submission as they stand, their demo lessons, and, while the parent has not chosen a password, a fresh
    set-password link (building it makes every earlier link stop working). A parent who has a password gets no
    link, and nothing about their account changes."""
    enrollment = log.related_object
    if enrollment is None:
        raise EmailNotResendable(
            f"Email #{log.pk} was about an enrollment that has been deleted, so it cannot be rebuilt: not resent."
        )
    family = enrollment.student.family
    parent = family.parents.filter(email__iexact=log.recipient).first()
    if parent is None:
        raise EmailNotResendable(f"{log.recipient} is no longer a parent of {family}: email #{log.pk} not resent.")
    key = enrollment.submission_key
    siblings = Enrollment.objects.filter(submission_key=key).order_by("pk") if key else [enrollment]
    set_password_url = (
        "" if parent.has_usable_password() else set_password_link_build(user=parent, base_url=settings.SITE_URL)
    )
    context, attachments = welcome_parent_content(
        enrollments=list(siblings), submission_key=key, site_url=settings.SITE_URL, set_password_url=set_password_url
    )
    return {**context, "parent": parent}, attachments
