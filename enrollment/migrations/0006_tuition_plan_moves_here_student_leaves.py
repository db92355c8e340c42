# TuitionPlan, moved from billing with its table and rows (billing/0010 renamed the table); Student has left
# for scheduling (scheduling/0008), so the enrollment's foreign key now names it there.
import django.db.models.deletion
from django.db import migrations, models

import cedarheights.money
import cedarheights.validators
from cedarheights.model_moves import content_type_move


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0010_tuition_plan_table_leaves_for_enrollment"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("enrollment", "0005_student_table_leaves_for_scheduling"),
        ("scheduling", "0008_student_moves_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TuitionPlan",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, unique=True, validators=[cedarheights.validators.no_control_characters])),
                        ("instrument", models.ForeignKey(blank=True, help_text="Leave empty for a plan that fits every instrument.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="tuition_plans", to="scheduling.instrument")),
                        ("lesson_minutes", models.PositiveSmallIntegerField(default=30)),
                        ("interval", models.CharField(choices=[("month", "Monthly"), ("week", "Weekly")], default="month", max_length=5)),
                        ("price_cents", models.PositiveIntegerField(help_text="Price per interval, in cents.")),
                        ("currency", models.CharField(default=cedarheights.money.default_currency, max_length=3)),
                        ("description", models.CharField(blank=True, max_length=255, validators=[cedarheights.validators.no_control_characters])),
                        ("active", models.BooleanField(default=True)),
                        ("stripe_product_id", models.CharField(blank=True, max_length=255)),
                        ("stripe_price_id", models.CharField(blank=True, help_text="Set by billing_sync_catalog.", max_length=255)),
                        ("djstripe_price", models.ForeignKey(blank=True, help_text="Stripe's price, as dj-stripe mirrors it.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="djstripe.price")),
                    ],
                    options={
                        "ordering": ["instrument__name", "lesson_minutes", "interval"],
                        "constraints": [models.CheckConstraint(condition=models.Q(("lesson_minutes__in", [30, 45, 60])), name="tuition_plan_minutes_valid")],
                    },
                ),
                migrations.AlterField(
                    model_name="enrollment",
                    name="tuition_plan",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="enrollments", to="enrollment.tuitionplan"),
                ),
                migrations.AlterField(
                    model_name="enrollment",
                    name="student",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="enrollments", to="scheduling.student"),
                ),
                migrations.DeleteModel(name="Student"),
            ],
        ),
        content_type_move(model="tuitionplan", old_app="billing", new_app="enrollment"),
    ]
