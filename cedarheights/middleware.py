from django.utils import timezone

from cedarheights.selectors import school_settings_get


class SchoolTimeZoneMiddleware:
    """Show every time in the school's zone, as the owner set it in the admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(school_settings_get().zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
