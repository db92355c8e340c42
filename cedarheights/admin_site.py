from django.contrib import admin


class SchoolAdminSite(admin.AdminSite):
    site_header = "Cedar Heights back office"
    site_title = "Cedar Heights"
    index_title = "Run the school"

    def index(self, request, extra_context=None):
        from cedarheights.selectors import dashboard_figures

        return super().index(request, extra_context={"figures": dashboard_figures(), **(extra_context or {})})


# The Stripe records an owner looks up beside our own billing pages; dj-stripe registers 41 more (API keys,
# payouts, tax codes…), which crowd the back office and make every admin page resolve and list them.
STRIPE_MIRROR_SHOWN = {"customer", "subscription"}


def stripe_mirror_trim() -> None:
    for model in [m for m in admin.site._registry if m._meta.app_label == "djstripe"]:
        if model._meta.model_name not in STRIPE_MIRROR_SHOWN:
            admin.site.unregister(model)
