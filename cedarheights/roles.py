"""Who someone is to the school. Every queryset and permission asks these, never `role` directly.

The core holds the three roles (accounts stores them on the user) so that the shared API bases and every app
can ask them without importing the app of people."""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    TEACHER = "teacher", "Teacher"
    PARENT = "parent", "Parent"


def is_school_admin(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.role == Role.ADMIN))


def is_teacher(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.TEACHER and hasattr(user, "teacher"))


def is_parent(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.PARENT and user.family_id)


def home_url_name(user) -> str:
    """Where someone lands at `/` (and so after signing in): the name of their own first page."""
    if is_teacher(user):
        return "teach-home"
    if is_parent(user):
        return "family-home"
    if is_school_admin(user):
        return "admin:index"
    return "profile"
