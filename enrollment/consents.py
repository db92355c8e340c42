"""A guardian's consents for each child (PIPEDA: a guardian consents for a young child): to the privacy notice for
their lessons, and the photos-and-recordings opt-in. Each records the notice version and the words shown; a
withdrawal is timed, and giving again makes a new row."""

from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import marketing_consent_give, marketing_consent_withdraw
from cedarheights.errors import InvalidInput
from cedarheights.models import PrivacyNotice
from cedarheights.selectors import privacy_notice_current
from cedarheights.services import audited_create, audited_update
from enrollment.models import ChildConsent
from scheduling.models import Student
from scheduling.services import student_photos_allowed_set

Purpose = ChildConsent.Purpose


def lessons_consent_text(notice: PrivacyNotice) -> str:
    """The enrollment page's consent, as shown: one tick for every child on the page, recorded for each."""
    return (
        f"I am the parent or guardian of each child I enroll here, and for each I agree to the Cedar Heights "
        f"privacy notice (version {notice.version})."
    )


# The photos opt-in, as the enrollment page and the family portal show it beside each child.
PHOTOS_CONSENT_TEXT = (
    "The school may take photos and recordings of this child's lessons and recitals and show them to our families. "
    "I can withdraw this at any time."
)


def consent_text(purpose: str, notice: PrivacyNotice) -> str:
    return lessons_consent_text(notice) if purpose == Purpose.LESSONS else PHOTOS_CONSENT_TEXT


def _lock_student(student: Student) -> None:
    # One child's consents change one at a time: two clicks never race to give the same one twice.
    list(Student.objects.select_for_update().filter(pk=student.pk).values_list("pk"))


@transaction.atomic(savepoint=False)  # inside enrollment's pipeline too, as cedarheights.services.audited_create
def child_consent_give(*, actor, student: Student, purpose: str, given_by: User, notice: PrivacyNotice) -> ChildConsent:
    """`given_by`'s consent for `student`, with the notice version and the words shown. Already in force: that
    record (nothing new to record)."""
    if notice.published_at is None:
        raise InvalidInput("Consent is given to a published notice.", fields={"notice": ["Not published."]})
    if given_by.family_id != student.family_id:
        raise InvalidInput("Only the child's own parent gives their consent.")
    _lock_student(student)
    if (in_force := student.consents.filter(purpose=purpose, withdrawn_at__isnull=True).first()) is not None:
        return in_force
    consent = audited_create(
        actor=actor,
        model=ChildConsent,
        student=student,
        purpose=purpose,
        notice=notice,
        text_shown=consent_text(purpose, notice),
        given_by=given_by,
        given_at=timezone.now(),
    )
    if purpose == Purpose.PHOTOS:
        student_photos_allowed_set(student=student, allowed=True)
    return consent


@transaction.atomic
def child_consent_withdraw(*, actor, student: Student, purpose: str) -> ChildConsent | None:
    """Withdraw a child's consent from now (what depends on it stops at once); None when none was in force."""
    _lock_student(student)
    consent = student.consents.filter(purpose=purpose, withdrawn_at__isnull=True).first()
    if consent is None:
        return None
    consent = audited_update(actor=actor, obj=consent, withdrawn_at=timezone.now(), withdrawn_by=actor)
    if purpose == Purpose.PHOTOS:
        student_photos_allowed_set(student=student, allowed=False)
    return consent


class Choice(models.TextChoices):
    """What a parent may do on the portal's "Privacy and consent" page."""

    PHOTOS_GIVE = "photos_give", "Allow photos and recordings"
    PHOTOS_WITHDRAW = "photos_withdraw", "Withdraw photos and recordings"
    MARKETING_GIVE = "marketing_give", "Get the school's news"
    MARKETING_WITHDRAW = "marketing_withdraw", "Stop the school's news"


def privacy_choice_make(*, parent: User, choice: str, student: Student | None) -> None:
    """A parent's choice from the portal, recorded with its time: a photos choice for one of their children (the
    form checked it is theirs), or their own news opt-in. Withdrawing takes effect at once; giving again is a new
    record under the current notice."""
    notice = privacy_notice_current()
    if choice == Choice.PHOTOS_GIVE:
        child_consent_give(actor=parent, student=student, purpose=Purpose.PHOTOS, given_by=parent, notice=notice)
    elif choice == Choice.PHOTOS_WITHDRAW:
        child_consent_withdraw(actor=parent, student=student, purpose=Purpose.PHOTOS)
    elif choice == Choice.MARKETING_GIVE:
        marketing_consent_give(actor=parent, parent=parent, notice=notice)
    else:
        marketing_consent_withdraw(actor=parent, parent=parent)
