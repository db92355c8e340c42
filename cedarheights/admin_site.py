from django.contrib import admin
from django.contrib.admin import apps as admin_apps
from django.utils.text import slugify

# The index and the sidebar in the order the owner works (the school at a glance, the dashboard, sits above):
# (heading, models by label). A model no group names lands in "System", so nothing registered is ever hidden.
ADMIN_GROUPS = [
    ("Students and enrollments", ["scheduling.Student", "enrollment.Enrollment", "enrollment.MakeupCredit"]),
    (
        "Families",
        [
            "accounts.Family",
            "accounts.User",
            "accounts.SchoolNews",
        ],
    ),
    (
        "Teachers, lessons and the school's calendar",
        [
            "scheduling.Teacher",
            "scheduling.Lesson",
            "scheduling.TeacherCancellation",
            "scheduling.WeeklyLesson",
            "scheduling.AcademicYear",
            "scheduling.Term",
            "scheduling.Closure",
            "scheduling.CalendarFeed",
            "scheduling.Instrument",
            "scheduling.Room",
            "cedarheights.SchoolSettings",
        ],
    ),
    (
        "Billing",
        [
            "enrollment.TuitionPlan",
            "billing.TuitionSubscription",
            "billing.Payment",
            "billing.PaymentFailure",
            "billing.LessonFee",
            "billing.FamilyFee",
            "billing.Receipt",
            "billing.LedgerEntry",
            "billing.BillingProfile",
            # Tuition: discounts, promotion codes and the monthly charges they shape.
            "billing.FamilyDiscount",
            "billing.PromotionCode",
            "billing.PromotionRedemption",
            "billing.TuitionCharge",
        ],
    ),
    ("Payroll", ["billing.PayPeriod", "billing.PayRate"]),
    # PIPEDA: what families agreed to, what they asked for, who read their records, and breaches.
    (
        "Privacy",
        [
            "accounts.AccessRequest",
            "accounts.CorrectionRequest",
            "accounts.DataExport",
            "enrollment.ChildConsent",
            "accounts.ConsentRecord",
            "cedarheights.PrivacyNotice",
            "cedarheights.AuditEvent",
            "accounts.Breach",
        ],
    ),
    (
        "System",
        [
            "knox.AuthToken",
            "auth.Group",
            "axes.AccessAttempt",
            "axes.AccessFailureLog",
            "axes.AccessLog",
            "django_q.OrmQ",
            "django_q.Schedule",
            "django_q.Success",
            "django_q.Failure",
            "djstripe.Customer",
            "djstripe.Subscription",
            "billing.StripeEvent",
            "cedarheights.EmailLog",
            "cedarheights.PipelineRun",
        ],
    ),
]


class SchoolAdminSite(admin.AdminSite):
    site_header = "Cedar Heights back office"
    site_title = "Cedar Heights"
    index_title = "Run the school"

    def get_app_list(self, request, app_label=None):
        """The models the person may see, grouped as ADMIN_GROUPS says (one app's own page stays as it is)."""
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        entries = {f"{app['app_label']}.{m['object_name']}": (app, m) for app in apps for m in app["models"]}
        groups = []
        for position, (heading, labels) in enumerate(ADMIN_GROUPS):
            if position == len(ADMIN_GROUPS) - 1:
                labels = [*labels, *sorted(set(entries) - {label for _, group in ADMIN_GROUPS for label in group})]
            shown = [entries[label] for label in labels if label in entries]
            if shown:
                # A group's heading opens its first list: a group gathers models of several apps, so no one app's page.
                first_model = shown[0][1]
                groups.append(
                    {
                        "name": heading,
                        "app_label": slugify(heading),
                        "app_url": first_model["admin_url"],
                        "has_module_perms": True,
                        "models": [model for _, model in shown],
                    }
                )
        return groups

    def index(self, request, extra_context=None):
        from cedarheights.dashboard import dashboard_charts, dashboard_figures, dashboard_metrics, dashboard_tiles

        board = dashboard_metrics()
        context = {
            "figures": dashboard_figures(),
            "board": board,
            "tiles": dashboard_tiles(board),
            "charts": dashboard_charts(board),
        }
        return super().index(request, extra_context={**context, **(extra_context or {})})


# The Stripe records an owner looks up beside our own billing pages; dj-stripe registers 41 more (API keys,
# payouts, tax codes…), which crowd the back office and make every admin page resolve and list them.
STRIPE_MIRROR_SHOWN = {"customer", "subscription"}


def stripe_mirror_trim() -> None:
    for model in [m for m in admin.site._registry if m._meta.app_label == "djstripe"]:
        if model._meta.model_name not in STRIPE_MIRROR_SHOWN:
            admin.site.unregister(model)


class SchoolAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "cedarheights.admin_site.SchoolAdminSite"

    def ready(self):
        super().ready()  # discovers every app's admin, dj-stripe's among them
        from cedarheights.admin_pages import admin_pages_register

        stripe_mirror_trim()
        admin_pages_register(admin.site)
