from datetime import datetime, time, timedelta

from django.db import migrations
from django.utils import timezone

DAILY = "enrollment.lifecycle.tasks.lifecycle_daily"
AT = time(5, 30)  # before the credits' run (06:00): a withdrawal's cut credits expire the same morning


def schedule_daily(apps, schema_editor):
    now = timezone.localtime()
    first = datetime.combine(now.date(), AT, tzinfo=now.tzinfo)
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        func=DAILY,
        defaults={
            "name": "Enrollments: vacation pauses over, withdrawals ended",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": first if first > now else first + timedelta(days=1),
        },
    )


def unschedule_daily(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=DAILY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0011_lifecycle_pause_change"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_daily, unschedule_daily)]
