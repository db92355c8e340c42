"""The demo school's privacy and consent (issue 18 §1), told through the services: the owner publishes version 2 of
the privacy notice (families consented to version 1 before the school year); the Nguyens allow photos of their
children, the Tremblays allowed them for one child and withdrew it; two parents take the school's news, one
stopped it; and the owner's first news email went to those still opted in. Each part looks for what it made
first, so seeding again changes nothing."""

from accounts.models import SchoolNews, User
from accounts.news import school_news_send
from accounts.selectors import marketing_consent_of
from accounts.services import marketing_consent_give, marketing_consent_withdraw
from cedarheights.models import PrivacyNotice
from cedarheights.selectors import privacy_notice_current
from cedarheights.services import privacy_notice_draft_save, privacy_notice_publish
from enrollment.consents import child_consent_give, child_consent_withdraw
from enrollment.models import ChildConsent
from scheduling.models import Student

SECOND_VERSION_CHANGE = (
    "What changed in version 2. Teachers now see, beside each student, whether photos and recordings of their "
    'lessons are allowed; and you can give or withdraw each of your choices yourself from "Privacy and consent" '
    "in your family portal."
)
PHOTOS_ALLOWED = "linh.nguyen@example.com"  # for all her children
PHOTOS_WITHDRAWN = "julie.tremblay@example.com"  # allowed for her first child, then withdrawn
NEWS_OPTED_IN = ("linh.nguyen@example.com", "harpreet.singh@example.com")
NEWS_STOPPED = "chidi.okonkwo@example.com"
FIRST_NEWS = "The winter recital: sign-ups are open"


def notice_second_version(*, owner: User) -> PrivacyNotice:
    current = privacy_notice_current()
    if current.version >= 2:
        return current
    draft = privacy_notice_draft_save(
        actor=owner, title=current.title, body=f"{current.body}\n\n{SECOND_VERSION_CHANGE}"
    )
    return privacy_notice_publish(actor=owner, notice=draft)


def photo_consents(*, notice: PrivacyNotice) -> None:
    allowing = User.objects.get(email=PHOTOS_ALLOWED)
    for student in Student.objects.filter(family=allowing.family_id).order_by("pk"):
        child_consent_give(
            actor=allowing, student=student, purpose=ChildConsent.Purpose.PHOTOS, given_by=allowing, notice=notice
        )
    withdrawing = User.objects.get(email=PHOTOS_WITHDRAWN)
    first_child = Student.objects.filter(family=withdrawing.family_id).order_by("pk").first()
    if not first_child.consents.filter(purpose=ChildConsent.Purpose.PHOTOS).exists():
        child_consent_give(
            actor=withdrawing,
            student=first_child,
            purpose=ChildConsent.Purpose.PHOTOS,
            given_by=withdrawing,
            notice=notice,
        )
        child_consent_withdraw(actor=withdrawing, student=first_child, purpose=ChildConsent.Purpose.PHOTOS)


def news_consents(*, notice: PrivacyNotice) -> None:
    for email in NEWS_OPTED_IN:
        parent = User.objects.get(email=email)
        marketing_consent_give(actor=parent, parent=parent, notice=notice)
    stopping = User.objects.get(email=NEWS_STOPPED)
    if not stopping.consentrecord_set.exists():
        marketing_consent_give(actor=stopping, parent=stopping, notice=notice)
    if marketing_consent_of(stopping) is not None:
        marketing_consent_withdraw(actor=stopping, parent=stopping)


def first_news(*, owner: User) -> None:
    if SchoolNews.objects.filter(subject=FIRST_NEWS).exists():
        return
    news = SchoolNews.objects.create(
        subject=FIRST_NEWS,
        body="Our winter recital is on the last Saturday before the holidays. Every student is welcome to play; "
        "ask your teacher at your next lesson.",
    )
    school_news_send(actor=owner, news=news)


def consents_tell(*, owner: User) -> None:
    notice = notice_second_version(owner=owner)
    photo_consents(notice=notice)
    news_consents(notice=notice)
    first_news(owner=owner)
