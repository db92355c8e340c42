"""The demo shows the owner each part of the family's rights: a request waiting past day 20 with its export ready,
an answered request, an open correction request and an annotated one."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import AccessRequest, CorrectionRequest, DataExport
from cedarheights.selectors import school_today
from tests.privacy_access.conftest import exported

pytestmark = pytest.mark.django_db


def test_the_demo_has_privacy_requests_to_look_at():
    call_command("seed_demo", stdout=StringIO())

    [waiting] = AccessRequest.objects.filter(answered_on=None)
    assert waiting.needs_warning(school_today()) and not waiting.is_overdue(school_today())
    [export] = DataExport.objects.filter(access_request=waiting)
    assert export.is_downloadable(export.built_at)
    assert exported(bytes(export.content))["family"][0]["id"] == waiting.family_id
    assert AccessRequest.objects.exclude(answered_on=None).count() == 1
    statuses = sorted(CorrectionRequest.objects.values_list("status", flat=True))
    assert statuses == ["annotated", "open"]
