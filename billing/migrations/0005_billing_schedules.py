from django.db import migrations

SCHEDULES = [
    # name, function, type (I: every N minutes, D: daily), minutes
    ("Retry failed payments", "billing.tasks.billing_retry_failed", "I", 60),
    ("Failed payments digest for the owner", "billing.tasks.failed_payments_digest", "D", None),
]


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, kind, minutes in SCHEDULES:
        Schedule.objects.get_or_create(func=func, defaults={"name": name, "schedule_type": kind, "minutes": minutes,
                                                            "repeats": -1})


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func__in=[func for _, func, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_stripe_events"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
