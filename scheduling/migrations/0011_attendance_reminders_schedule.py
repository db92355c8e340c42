from django.db import migrations

REMINDERS = "scheduling.tasks.attendance_reminders"


def schedule_reminders(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=REMINDERS,
        defaults={"name": "Remind teachers of unmarked attendance", "schedule_type": "I", "minutes": 60, "repeats": -1},
    )


def unschedule_reminders(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=REMINDERS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0010_weekly_lessons_from_booked_lessons"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_reminders, unschedule_reminders)]
