"""A family's consents become the guardian's consent for each child (`ChildConsent`): the privacy policy one for
their lessons, the photos one for photos. Marketing stays the parent's own (accounts' ConsentRecord). Each row
names the notice it was given under (the policy of 2026-09 is notice version 1, published here if a database has
lost it) and the words the page showed then; a marketing row without a parent goes, as no one can be said to have given it."""

from django.db import migrations
from django.utils import timezone

from cedarheights.privacy_notice_text import FIRST_NOTICE_BODY, FIRST_NOTICE_TITLE

# The enrollment page's checkbox before notices were versioned, as it read.
OLD_POLICY_TEXT = "I agree to the privacy policy (version {version}) for my family and children."
OLD_PHOTOS_TEXT = "Photos and recordings of lessons (given for the family before consents were per child)."
OLD_MARKETING_TEXT = "News and offers by email (given before the words shown were recorded)."
PURPOSES = {"privacy_policy": "lessons", "photos": "photos"}


def consents_per_child(apps, schema_editor):
    ConsentRecord = apps.get_model("accounts", "ConsentRecord")
    ChildConsent = apps.get_model("enrollment", "ChildConsent")
    PrivacyNotice = apps.get_model("cedarheights", "PrivacyNotice")
    Student = apps.get_model("scheduling", "Student")
    first = PrivacyNotice.objects.order_by("version").first() or PrivacyNotice.objects.create(
        version=1, title=FIRST_NOTICE_TITLE, body=FIRST_NOTICE_BODY, published_at=timezone.now()
    )
    moved = ConsentRecord.objects.filter(purpose__in=list(PURPOSES)).order_by("given_at", "pk")
    for record in moved:
        text = OLD_POLICY_TEXT.format(version=record.policy_version) if record.purpose == "privacy_policy" else (
            OLD_PHOTOS_TEXT
        )
        for student in Student.objects.filter(family_id=record.family_id):
            purpose = PURPOSES[record.purpose]
            # One in force per child and purpose: an older one still open ends when the newer was given.
            ChildConsent.objects.filter(student=student, purpose=purpose, withdrawn_at__isnull=True).update(
                withdrawn_at=record.given_at
            )
            ChildConsent.objects.create(
                student=student,
                purpose=purpose,
                notice=first,
                text_shown=text,
                given_by_id=record.given_by_id,
                given_at=record.given_at,
                withdrawn_at=record.withdrawn_at,
            )
    moved.delete()
    # What the teacher's pages show (scheduling's Student.photos_allowed) follows the photo consents in force.
    Student.objects.filter(consents__purpose="photos", consents__withdrawn_at__isnull=True).update(photos_allowed=True)
    ConsentRecord.objects.filter(purpose="marketing", given_by__isnull=True).delete()
    for record in ConsentRecord.objects.filter(purpose="marketing").order_by("given_at", "pk"):
        ConsentRecord.objects.filter(
            given_by_id=record.given_by_id, purpose="marketing", withdrawn_at__isnull=True, given_at__lt=record.given_at
        ).update(withdrawn_at=record.given_at)
        record.notice, record.text_shown = first, OLD_MARKETING_TEXT
        record.save(update_fields=["notice", "text_shown"])


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0014_child_consent"),
        ("accounts", "0008_consent_record_notice"),
        ("scheduling", "0016_student_photos_allowed"),
    ]

    operations = [migrations.RunPython(consents_per_child, migrations.RunPython.noop)]
