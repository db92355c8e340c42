# Student, moved from enrollment with its table and rows (enrollment/0005 renamed the table).
import django.db.models.deletion
from django.db import migrations, models

import cedarheights.validators
from cedarheights.model_moves import content_type_move


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_password_link_nonce"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("enrollment", "0005_student_table_leaves_for_scheduling"),
        ("scheduling", "0007_names_refuse_control_characters"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Student",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("family", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="students", to="accounts.family")),
                        ("first_name", models.CharField(max_length=100, validators=[cedarheights.validators.no_control_characters])),
                        ("last_name", models.CharField(max_length=100, validators=[cedarheights.validators.no_control_characters])),
                        ("date_of_birth", models.DateField()),
                        ("instrument", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="students", to="scheduling.instrument")),
                        ("level", models.CharField(choices=[("beginner", "Beginner"), ("intermediate", "Intermediate"), ("advanced", "Advanced")], default="beginner", max_length=15)),
                        ("teacher", models.ForeignKey(blank=True, help_text="The assigned teacher.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="students", to="scheduling.teacher")),
                        ("status", models.CharField(choices=[("prospective", "Prospective"), ("active", "Active"), ("paused", "Paused"), ("withdrawn", "Withdrawn")], default="prospective", max_length=15)),
                        ("notes", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "ordering": ["last_name", "first_name"],
                        "indexes": [
                            models.Index(fields=["teacher", "status"], name="enrollment__teacher_792433_idx"),
                            models.Index(fields=["status"], name="enrollment__status_a4ac24_idx"),
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="lesson",
                    name="student",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="lessons", to="scheduling.student"),
                ),
            ],
        ),
        migrations.RenameIndex(model_name="student", new_name="scheduling__teacher_d6ac62_idx", old_name="enrollment__teacher_792433_idx"),
        migrations.RenameIndex(model_name="student", new_name="scheduling__status_e8c3b8_idx", old_name="enrollment__status_a4ac24_idx"),
        content_type_move(model="student", old_app="enrollment", new_app="scheduling"),
    ]
