from django.db import migrations

HEARTBEAT = "cedarheights.tasks.worker_heartbeat"


def schedule_heartbeat(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=HEARTBEAT, defaults={"name": "Worker heartbeat", "schedule_type": "I", "minutes": 1, "repeats": -1}
    )


def unschedule_heartbeat(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=HEARTBEAT).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cedarheights", "0003_worker_heartbeat"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_heartbeat, unschedule_heartbeat)]
