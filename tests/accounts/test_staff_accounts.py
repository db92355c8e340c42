"""staff_create: a teacher's or the school staff's account, made as a parent's is (no usable password yet, an
audit row naming who made it)."""

import pytest

from accounts.models import User
from accounts.services import staff_create
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_teachers_account_has_no_password_yet_no_admin_site_and_an_audit_row_naming_who_made_it():
    owner = UserFactory(role=User.Role.ADMIN, is_staff=True)

    teacher = staff_create(
        actor=owner, email=" Amelia.Hart@Example.com", first_name="Amelia", last_name="Hart", role=User.Role.TEACHER
    )

    assert teacher.email == "amelia.hart@example.com"
    assert (teacher.is_staff, teacher.is_superuser, teacher.has_usable_password()) == (False, False, False)
    [event] = AuditEvent.objects.filter(object_type__model="user", object_id=str(teacher.pk))
    assert (event.actor, event.action, event.changes["role"]) == (owner, "create", [None, "teacher"])


def test_an_admins_account_opens_the_admin_site_and_only_an_admin_may_be_a_superuser():
    owner = staff_create(
        actor=None, email="owner@example.com", first_name="Amira", last_name="Haddad", role="admin", superuser=True
    )
    assert (owner.is_staff, owner.is_superuser) == (True, True)

    with pytest.raises(InvalidInput):
        staff_create(actor=None, email="t@example.com", first_name="T", last_name="T", role="teacher", superuser=True)
    with pytest.raises(InvalidInput):
        staff_create(actor=None, email="p@example.com", first_name="P", last_name="P", role="parent")
    assert list(User.objects.values_list("email", flat=True)) == ["owner@example.com"]
