"""Enrollment's part of the retention schedule (cedarheights/privacy_retention.py reads it): an enrollment still
running keeps its family out of the retention job, and its last change counts as the family's activity."""

from collections.abc import Collection
from datetime import datetime

from django.db.models import Max

from enrollment.models import Enrollment

# A family with one of these is still the school's: the waitlist is not (its 12 months run from its last activity).
LIVE_STATUSES = (Enrollment.Status.PENDING, Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED)


def family_ids_with_live_enrollment(*, family_ids: Collection[int]) -> set[int]:
    return set(
        Enrollment.objects.filter(student__family_id__in=list(family_ids), status__in=LIVE_STATUSES).values_list(
            "student__family_id", flat=True
        )
    )


def family_last_enrollment_activity(*, family_ids: Collection[int]) -> dict[int, datetime]:
    rows = (
        Enrollment.objects.filter(student__family_id__in=list(family_ids))
        .values("student__family_id")
        .annotate(last=Max("updated_at"))
    )
    return {row["student__family_id"]: row["last"] for row in rows}
