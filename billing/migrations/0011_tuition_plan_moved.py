# The subscription's foreign key names the tuition plan in its new app (enrollment/0006); no table changes.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0010_tuition_plan_table_leaves_for_enrollment"),
        ("enrollment", "0006_tuition_plan_moves_here_student_leaves"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="tuitionsubscription",
                    name="tuition_plan",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="subscriptions", to="enrollment.tuitionplan"),
                ),
                migrations.DeleteModel(name="TuitionPlan"),
            ],
        ),
    ]
