from datetime import datetime, time, timedelta

from django.db import migrations
from django.utils import timezone

NIGHTLY = "cedarheights.privacy_retention.retention_commit"
AT = time(3, 15)  # the quiet of the night, before the mornings' jobs (05:30, 06:00)


def schedule_nightly(apps, schema_editor):
    now = timezone.localtime()
    first = datetime.combine(now.date(), AT, tzinfo=now.tzinfo)
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        func=NIGHTLY,
        defaults={
            "name": "Privacy: the retention schedule (anonymise what is past its period)",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": first if first > now else first + timedelta(days=1),
        },
    )


def unschedule_nightly(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=NIGHTLY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cedarheights", "0016_privacy"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_nightly, unschedule_nightly)]
