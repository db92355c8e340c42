from rest_framework.permissions import SAFE_METHODS, BasePermission

from cedarheights.roles import is_parent, is_school_admin, is_teacher


class IsSchoolAdmin(BasePermission):
    def has_permission(self, request, view):
        return is_school_admin(request.user)


class ReadOnlyOrSchoolAdmin(BasePermission):
    """Everyone signed in reads; only the school's admins write (plans, terms, teachers…)."""

    def has_permission(self, request, view):
        return request.user.is_authenticated and (request.method in SAFE_METHODS or is_school_admin(request.user))


class SchoolAdminOrParent(BasePermission):
    """Families: admins everything; a parent reads and edits their own (the queryset scopes which)."""

    def has_permission(self, request, view):
        if is_school_admin(request.user):
            return True
        return is_parent(request.user) and view.action in {"list", "retrieve", "update", "partial_update"}


class SchoolAdminParentOrTeacher(BasePermission):
    """Students and lessons: admins write everything; parents and teachers only what each view allows."""

    def has_permission(self, request, view):
        if is_school_admin(request.user):
            return True
        allowed = getattr(view, "parent_actions", set()) if is_parent(request.user) else set()
        if is_teacher(request.user):
            allowed = getattr(view, "teacher_actions", set())
        return view.action in allowed


class SchoolAdminOrTeacher(BasePermission):
    """A teacher's own records (their day, their make-up blocks): teachers, and the school's admins for all."""

    def has_permission(self, request, view):
        return is_school_admin(request.user) or is_teacher(request.user)
