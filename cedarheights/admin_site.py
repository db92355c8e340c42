from django.contrib import admin


class SchoolAdminSite(admin.AdminSite):
    site_header = "Cedar Heights back office"
    site_title = "Cedar Heights"
    index_title = "Run the school"

    def index(self, request, extra_context=None):
        from cedarheights.selectors import dashboard_figures

        return super().index(request, extra_context={"figures": dashboard_figures(), **(extra_context or {})})
