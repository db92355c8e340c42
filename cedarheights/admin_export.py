"""Exporting a list from the admin as CSV or XLSX (django-import-export), each export on the audit log."""

from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX

from cedarheights.models import AuditEvent
from cedarheights.services import audit_record


class AuditedExportMixin(ExportMixin):
    """The list's Export button: the rows the list shows (its filters and search), as CSV or XLSX, for whoever may
    view them. One audit event per export names who took which rows."""

    formats = [CSV, XLSX]

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        exported = list(queryset.values_list("pk", flat=True))
        if exported:  # an empty file tells nobody anything
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.EXPORT,
                obj=queryset.model.objects.get(pk=exported[0]),
                changes={
                    "exported": [queryset.model._meta.label, exported],
                    "format": [None, file_format.get_title()],
                },
            )
        return data
