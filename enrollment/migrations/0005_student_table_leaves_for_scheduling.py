# Student moves to scheduling (a lesson points to it, and scheduling sits below enrollment): the table is
# renamed here and the model is declared there (scheduling/0008), so every row stays where it is.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0004_names_refuse_control_characters"),
        ("scheduling", "0007_names_refuse_control_characters"),
        ("billing", "0009_subscription_handoff"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="student", table="scheduling_student")],
        ),
    ]
