from django.db import migrations

POST = "billing.tasks.lesson_fees_post_due"


def schedule_post(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=POST,
        defaults={"name": "Post lesson fees past their review time", "schedule_type": "I", "minutes": 15, "repeats": -1},
    )


def unschedule_post(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=POST).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0012_lesson_fees"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_post, unschedule_post)]
