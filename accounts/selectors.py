from django.db.models import QuerySet

from accounts.models import Family
from cedarheights.roles import is_parent, is_school_admin


def family_list_visible_to(user) -> QuerySet[Family]:
    """Admin: every family; a parent: their own; anyone else: none."""
    families = Family.objects.prefetch_related("parents").order_by("name", "id")
    if is_school_admin(user):
        return families
    if is_parent(user):
        return families.filter(id=user.family_id)
    return families.none()
