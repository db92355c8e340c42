# TuitionPlan moves to enrollment (what a family signs up for, which an enrollment points to, and billing sits
# above enrollment): the table is renamed here and the model is declared there (enrollment/0006).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0009_subscription_handoff"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="tuitionplan", table="enrollment_tuitionplan")],
        ),
    ]
