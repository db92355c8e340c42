"""The layers of .importlinter hold for model references too: a foreign key, one-to-one or many-to-many field
points only to its own app or an app below it (import-linter sees imports, not "app.Model" strings). A reference
to `settings.AUTH_USER_MODEL` is allowed anywhere: like Django's own admin log, it names the user model through a
setting, not an app."""

import configparser
from pathlib import Path

import pytest
from django.apps import apps

from tests.factories import StudentFactory

CONTRACT = Path(__file__).resolve().parent.parent / ".importlinter"


def app_layers_top_down() -> list[str]:
    """The apps of the layers contract, highest first (the wiring line and comments left out)."""
    contract = configparser.ConfigParser(inline_comment_prefixes=None)
    contract.read(CONTRACT)
    lines = contract["importlinter:contract:layers"]["layers"].splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith((";", "cedarheights"))]


def test_every_model_reference_points_to_its_own_layer_or_a_lower_one():
    order = app_layers_top_down()
    assert order == ["billing", "enrollment", "scheduling", "accounts"]
    height = {app: len(order) - position for position, app in enumerate(order)} | {"cedarheights": 0}
    upward = [
        f"{model._meta.label}.{field.name} → {field.related_model._meta.label}"
        for model in apps.get_models()
        if model._meta.app_label in height
        for field in model._meta.get_fields()
        if field.is_relation
        and field.concrete
        and field.related_model is not None
        and field.swappable_setting is None
        and height.get(field.related_model._meta.app_label, -1) > height[model._meta.app_label]
    ]
    assert upward == []


@pytest.mark.django_db
def test_an_admin_bookmark_of_a_moved_model_opens_its_new_page(owner_client):
    student = StudentFactory()
    answer = owner_client.get(f"/admin/enrollment/student/{student.pk}/change/?tab=1")
    assert answer.status_code == 302 and answer["Location"] == f"/admin/scheduling/student/{student.pk}/change/?tab=1"
    assert owner_client.get(answer["Location"]).status_code == 200
    assert owner_client.get("/admin/billing/tuitionplan/")["Location"] == "/admin/enrollment/tuitionplan/"
