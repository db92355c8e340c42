from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count

from enrollment.models import Student
from scheduling.models import Closure, Lesson, Teacher


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.mark.django_db
def test_seed_demo_builds_a_believable_school_and_running_it_again_changes_no_counts():
    call_command("seed_demo", stdout=StringIO())
    first = row_counts()
    call_command("seed_demo", stdout=StringIO())

    assert row_counts() == first
    assert Teacher.objects.count() >= 3
    assert {i.name for t in Teacher.objects.all() for i in t.instruments.all()} >= {"Piano", "Guitar", "Bass"}
    assert first["accounts.Family"] >= 6 and first["enrollment.Student"] >= 8
    assert Student.objects.values("family").annotate(n=Count("id")).filter(n__gte=2)
    assert Closure.objects.filter(teacher=None).exists()
    assert Lesson.objects.count() > 20


@pytest.mark.django_db
def test_the_models_and_the_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
