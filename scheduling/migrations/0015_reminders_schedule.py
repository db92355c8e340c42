from django.db import migrations

REMINDERS = "scheduling.tasks.reminders"


def schedule_reminders(apps, schema_editor):
    # Every 15 minutes: the evening's emails go soon after the owner's reminder time, and a cancellation-window nudge
    # within a quarter hour of its moment.
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=REMINDERS,
        defaults={
            "name": "Evening reminders and cancellation-window nudges",
            "schedule_type": "I",
            "minutes": 15,
            "repeats": -1,
        },
    )


def unschedule_reminders(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=REMINDERS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0014_calendar_stamps"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_reminders, unschedule_reminders)]
