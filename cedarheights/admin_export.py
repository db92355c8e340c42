"""Exporting a list from the admin as CSV or XLSX (django-import-export), each export on the audit log."""

from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX

from cedarheights.services import audit_export


class AuditedExportMixin(ExportMixin):
    """The list's Export button: the rows the list shows (its filters and search), as CSV or XLSX, for whoever may
    view them. One audit event per export names who took which rows."""

    formats = [CSV, XLSX]

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        exported = list(queryset)
        if exported:  # an empty file tells nobody anything
            audit_export(
                actor=request.user,
                model=queryset.model,
                exported=exported,
                request=request,
                file_format=file_format.get_title(),
            )
        return data
