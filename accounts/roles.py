"""Who someone is to the school. Every queryset and permission asks these, never `role` directly."""

from accounts.models import User


def is_school_admin(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.role == User.Role.ADMIN))


def is_teacher(user) -> bool:
    return bool(user and user.is_authenticated and user.role == User.Role.TEACHER and hasattr(user, "teacher"))


def is_parent(user) -> bool:
    return bool(user and user.is_authenticated and user.role == User.Role.PARENT and user.family_id)
