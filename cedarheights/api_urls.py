from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import views as accounts
from billing.api import fees as billing_fees
from billing.api import payroll_views as payroll
from billing.api import tuition as billing_tuition
from billing.api import views as billing
from cedarheights.api_dashboard import DashboardApi
from cedarheights.api_views import SchoolSettingsApi
from enrollment.api import family_views as family
from enrollment.api import views as enrollment
from enrollment.api.credit_views import CreditActionViewSet
from enrollment.api.lifecycle_views import EnrollmentLifecycleViewSet
from scheduling.api import teacher_views as teaching
from scheduling.api import views as scheduling
from scheduling.api.calendar_links import CalendarFeedViewSet
from scheduling.api.school_days import SchoolDayCloseApi

router = DefaultRouter()
router.include_root_view = False
router.register("families", accounts.FamilyViewSet, basename="family")
router.register("students", enrollment.StudentViewSet, basename="student")
router.register("instruments", scheduling.InstrumentViewSet, basename="instrument")
router.register("teachers", scheduling.TeacherViewSet, basename="teacher")
router.register("availability", scheduling.AvailabilityViewSet, basename="availability")
# Lessons with the family's side (cancellation preview, family-cancel, reschedule): enrollment's rules for credits.
router.register("lessons", family.LessonViewSet, basename="lesson")
router.register("teacher-cancellations", scheduling.TeacherCancellationViewSet, basename="teacher-cancellation")
router.register("makeup-credits", family.MakeupCreditViewSet, basename="makeup-credit")
router.register("academic-years", scheduling.AcademicYearViewSet, basename="academic-year")
router.register("terms", scheduling.TermViewSet, basename="term")
router.register("closures", scheduling.ClosureViewSet, basename="closure")
router.register("makeup-blocks", teaching.MakeupBlockViewSet, basename="makeup-block")
router.register("tuition-plans", enrollment.TuitionPlanViewSet, basename="tuition-plan")
router.register("billing/subscriptions", billing.SubscriptionViewSet, basename="subscription")
router.register("lesson-fees", billing.LessonFeeViewSet, basename="lesson-fee")
router.register("billing/fees", billing_fees.FamilyFeeViewSet, basename="family-fee")
# Tuition (issue 17): the family's own discounts and the promotion codes, the school's admins only.
router.register("billing/family-discounts", billing_tuition.FamilyDiscountViewSet, basename="family-discount")
router.register("billing/promotion-codes", billing_tuition.PromotionCodeViewSet, basename="promotion-code")
router.register("credit-actions", CreditActionViewSet, basename="credit-action")
router.register("calendar-feeds", CalendarFeedViewSet, basename="calendar-feed")
# An enrollment read, changed from a date, paused, withdrawn (`POST enrollments/` is above).
router.register("enrollments", EnrollmentLifecycleViewSet, basename="enrollment")
router.register("payroll/rates", payroll.PayRateViewSet, basename="pay-rate")
router.register("payroll/periods", payroll.PayPeriodViewSet, basename="pay-period")

auth_urls = [
    path("csrf/", accounts.CsrfApi.as_view(), name="auth-csrf"),
    path("login/", accounts.SessionLoginApi.as_view(), name="auth-login"),
    path("logout/", accounts.SessionLogoutApi.as_view(), name="auth-logout"),
    path("token/", accounts.TokenApi.as_view(), name="auth-token"),
    path("tokens/", accounts.TokensRevokeApi.as_view(), name="auth-tokens"),
    path("me/", accounts.MeApi.as_view(), name="auth-me"),
    path("password/change/", accounts.PasswordChangeApi.as_view(), name="auth-password-change"),
    path("password/reset/", accounts.PasswordResetApi.as_view(), name="auth-password-reset"),
    path("password/reset/confirm/", accounts.PasswordResetConfirmApi.as_view(), name="auth-password-reset-confirm"),
]

public_urls = [
    path("teachers/", scheduling.PublicTeacherListApi.as_view(), name="public-teachers"),
    path("timeslots/", scheduling.PublicTimeslotListApi.as_view(), name="public-timeslots"),
    path("pricing/", enrollment.PublicPricingApi.as_view(), name="public-pricing"),
]

teach_urls = [
    path("day/", teaching.TeachDayApi.as_view(), name="teach-day-api"),
    path("unmarked/", teaching.TeachUnmarkedApi.as_view(), name="teach-unmarked-api"),
    path("pay/", payroll.TeachPayApi.as_view(), name="teach-pay-api"),
]

urlpatterns = [
    path("auth/", include(auth_urls)),
    path("public/", include(public_urls)),
    path("teach/", include(teach_urls)),
    path("school-settings/", SchoolSettingsApi.as_view(), name="school-settings"),
    path("dashboard/", DashboardApi.as_view(), name="dashboard"),  # the owner's numbers, as on the admin's index
    path("enrollments/", enrollment.EnrollmentCreateApi.as_view(), name="enrollment-create"),
    path("school-days/close/", SchoolDayCloseApi.as_view(), name="school-day-close"),
    path("reminder-preferences/", accounts.ReminderPreferenceListApi.as_view(), name="reminder-preferences"),
    path(
        "reminder-preferences/<str:kind>/",
        accounts.ReminderPreferenceUpdateApi.as_view(),
        name="reminder-preference",
    ),
    path("", include(router.urls)),
]
