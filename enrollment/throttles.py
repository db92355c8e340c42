from rest_framework.throttling import SimpleRateThrottle


class EnrollmentThrottle(SimpleRateThrottle):
    """Enrollments by someone not signed in, per client (`ENROLL_API_RATE`): each books teachers' weekly times,
    so one client cannot fill a week. The API and the /enroll/ page share the count."""

    scope = "enroll"

    def get_cache_key(self, request, view):
        if request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
