from django.http import JsonResponse
from django.utils import timezone

from cedarheights.selectors import school_settings_get


def database_free(view):
    """Mark a view that must answer without the database (liveness), so no middleware reads it first."""
    view.database_free = True
    return view


class SchoolTimeZoneMiddleware:
    """Show every time in the school's zone, as the owner set it in the admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "database_free", False):
            timezone.activate(school_settings_get().zone)


class RejectNulBytesMiddleware:
    """A NUL character can reach no query: PostgreSQL refuses it in text, which would be a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        values = (part for key, items in request.GET.lists() for part in (key, *items))
        if "\x00" in request.path or any("\x00" in value for value in values):
            from cedarheights.api import error_body

            body = error_body(request, code="invalid", message="Requests may not contain NUL characters.")
            return JsonResponse(body, status=400)
        return self.get_response(request)
