from django.db import migrations, models
from django.db.models import F


def pauses_made_before_began(apps, schema_editor):
    # Every pause made so far was sent to Stripe when it was made: none is waiting for its first day.
    apps.get_model("enrollment", "EnrollmentPause").objects.filter(began_at=None).update(began_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0012_lifecycle_daily_schedule")]

    operations = [
        migrations.AddField(
            model_name="enrollmentpause",
            name="began_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When its first day came and billing was told (Stripe's pause has no start date: it is set "
                "then).",
                null=True,
            ),
        ),
        migrations.RunPython(pauses_made_before_began, migrations.RunPython.noop),
    ]
