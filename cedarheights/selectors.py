from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from cedarheights.models import SchoolSettings

SCHOOL_SETTINGS_CACHE_KEY = "cedarheights:school-settings"
# Other worker processes see an owner's change within this many seconds; the saving one at once.
SCHOOL_SETTINGS_CACHE_SECONDS = 60


def school_settings_get() -> SchoolSettings:
    found = cache.get(SCHOOL_SETTINGS_CACHE_KEY)
    if found is None:
        found, _ = SchoolSettings.objects.get_or_create(id=SchoolSettings.SINGLETON_ID)
        cache.set(SCHOOL_SETTINGS_CACHE_KEY, found, SCHOOL_SETTINGS_CACHE_SECONDS)
    return found


def dashboard_figures() -> dict[str, int]:
    """What the owner looks at first on the admin index."""
    from billing.models import Payment
    from enrollment.models import Enrollment, Student
    from scheduling.models import Lesson

    zone = school_settings_get().zone
    today = timezone.localdate(timezone=zone)
    week_start = timezone.make_aware(
        timezone.datetime.combine(today - timedelta(days=today.weekday()), timezone.datetime.min.time()), zone
    )
    students = Student.objects.aggregate(active=Count("id", filter=Q(status=Student.Status.ACTIVE)))
    enrollments = Enrollment.objects.aggregate(
        pending=Count("id", filter=Q(status=Enrollment.Status.PENDING)),
        waitlisted=Count("id", filter=Q(status=Enrollment.Status.WAITLISTED)),
    )
    lessons = Lesson.objects.filter(start_at__gte=week_start, start_at__lt=week_start + timedelta(days=7)).aggregate(
        this_week=Count("id", filter=~Q(status=Lesson.Status.CANCELLED)),
        cancelled_this_week=Count("id", filter=Q(status=Lesson.Status.CANCELLED)),
    )
    failed_payments = Payment.objects.filter(status=Payment.Status.FAILED).count()
    return {
        "active_students": students["active"],
        "lessons_this_week": lessons["this_week"],
        "cancelled_this_week": lessons["cancelled_this_week"],
        "pending_enrollments": enrollments["pending"],
        "waitlisted": enrollments["waitlisted"],
        "failed_payments": failed_payments,
    }
