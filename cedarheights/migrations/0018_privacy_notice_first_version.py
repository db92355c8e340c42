"""The school's first privacy notice, published, so families have a version to read and consent to from day one."""

from django.db import migrations
from django.utils import timezone

from cedarheights.privacy_notice_text import FIRST_NOTICE_BODY, FIRST_NOTICE_TITLE


def publish_first_notice(apps, schema_editor):
    PrivacyNotice = apps.get_model("cedarheights", "PrivacyNotice")
    if not PrivacyNotice.objects.exists():
        PrivacyNotice.objects.create(
            version=1, title=FIRST_NOTICE_TITLE, body=FIRST_NOTICE_BODY, published_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [("cedarheights", "0017_privacy_notice")]

    operations = [migrations.RunPython(publish_first_notice, migrations.RunPython.noop)]
