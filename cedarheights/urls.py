from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as accounts_views
from cedarheights import health, metrics, privacy_views
from cedarheights.error_handlers import json_bad_request, json_not_found, json_permission_denied, json_server_error
from scheduling.calendar_views import calendar_feed

# Models that moved app (README, "Architecture"): the owner's bookmarks of their admin pages still open them.
MOVED_ADMIN_PAGES = {"enrollment/student": "scheduling/student", "billing/tuitionplan": "enrollment/tuitionplan"}


urlpatterns = [
    path("", accounts_views.landing, name="landing"),
    *(
        re_path(rf"^admin/{old}/(?P<rest>.*)$", RedirectView.as_view(url=f"/admin/{new}/%(rest)s", query_string=True))
        for old, new in MOVED_ADMIN_PAGES.items()
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("cedarheights.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        # Its init script from its own address, not inline, for the Content-Security-Policy.
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="drf_spectacular/swagger_ui_csp.html"),
        name="api-docs",
    ),
    path("billing/", include("billing.urls")),
    path("enroll/", include("enrollment.urls")),
    path("family/", include("enrollment.family_urls")),
    path("teach/pay/", include("billing.teach_urls")),
    path("teach/", include("scheduling.urls")),
    path("privacy/", privacy_views.privacy_notice, name="privacy-notice"),
    path("privacy/v<int:version>/", privacy_views.privacy_notice, name="privacy-notice-version"),
    path("cal/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="metrics"),
]

handler400 = json_bad_request
handler403 = json_permission_denied
handler404 = json_not_found
handler500 = json_server_error

if settings.BENCH_FLOOR:  # only while `make bench` runs: what Django itself costs on this machine
    urlpatterns.append(path("bench/floor", health.floor, name="bench-floor"))
