from django.db import migrations

CLEAR = "accounts.privacy_requests.data_exports_expired_clear"


def schedule_clear(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        func=CLEAR,
        defaults={"name": "Drop the zips of family data exports whose link expired", "schedule_type": "H", "repeats": -1},
    )


def unschedule_clear(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=CLEAR).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_data_export"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_clear, unschedule_clear)]
