"""A view that fails while a child's data is in its request and its local variables: what a real bug looks like
to the error reports (tests/monitoring/test_error_reports.py)."""

import logging

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger("cedarheights.tests")


@csrf_exempt  # a form post from a test, not a browser
def failing_enrollment(request):
    child_name = request.POST["child_name"]
    child_email = request.GET["email"]
    child_born = request.headers["X-Child-Born"]
    logger.warning(f"placing {child_name} ({child_email}), born {child_born}")  # a breadcrumb carrying data
    raise ValueError(f"No slot for {child_name} ({child_email}), born {child_born}")


def failing_feed(request, token):
    raise ValueError("the feed could not be built")


urlpatterns = [path("enroll/failing/", failing_enrollment), path("cal/<str:token>.ics", failing_feed)]
