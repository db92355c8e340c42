"""The owner's import page, on the families' list: upload, dry run (every row's result and error, nothing
written), then import the same file in one transaction. The template and the samples download from it."""

import base64

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import path
from tablib import Dataset

from cedarheights.errors import DomainError
from cedarheights.school_import.columns import GENERIC, TEACHERS
from cedarheights.school_import.reading import Upload, rows_read
from cedarheights.school_import.run import FAILED, NEW, UNCHANGED, UPDATED, school_import_run
from cedarheights.school_import.samples import SAMPLES_DIR

# The files the page offers, with what each one is for.
SAMPLES = {
    "teachers.csv": "12 teachers with their instruments and weekly hours: import it first.",
    "my_music_staff_500.csv": "500 students in My Music Staff's export layout, with their weekly lessons.",
    "template_500.csv": "500 students in our template, with their weekly lessons.",
    "jackrabbit.xlsx": "Jackrabbit's layout: a Families sheet and a Students sheet sharing a Family ID.",
    "template_bad_rows.csv": "30 rows, 20 of them wrong: see how the dry run reports each one.",
}
TEMPLATES = {"template": GENERIC, "teachers-template": TEACHERS}
CONFIRM_SALT = "school-import"
CONFIRM_MAX_AGE = 60 * 60


class SchoolImportForm(forms.Form):
    file = forms.FileField(help_text="A .csv or .xlsx file: our template, a My Music Staff export, or teachers.")
    family_file = forms.FileField(
        required=False, help_text="Jackrabbit's family sheet, when it is a separate .csv (same Family ID column)."
    )


def rows_counted(count: int) -> str:
    """“1 row”, “2 rows”: the summary's count."""
    return f"{count} row{pluralize(count)}"


def _uploads(files) -> list[Upload]:
    return [Upload(name=f.name, content=f.read()) for f in files if f]


def _signed(uploads: list[Upload]) -> str:
    """The dry-run file, carried to the confirm button, signed so that what is imported is what was checked."""
    return signing.dumps(
        [[u.name, base64.b64encode(u.content).decode()] for u in uploads], salt=CONFIRM_SALT, compress=True
    )


def _unsigned(token: str) -> list[Upload]:
    try:
        files = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature as error:
        raise DomainError("The checked file expired (an hour): upload it again for a new dry run.") from error
    return [Upload(name=name, content=base64.b64decode(content)) for name, content in files]


class SchoolImportAdminMixin:
    """On the families' list, a button to the import page (and django-import-export's Export beside it)."""

    import_export_change_list_template = "admin/school_import/family_change_list.html"

    def has_school_import_permission(self, request) -> bool:
        user = request.user
        return all(
            user.has_perm(perm)
            for perm in ("accounts.add_family", "accounts.add_user", "scheduling.add_student", "scheduling.add_teacher")
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import-school/", view(self.school_import_view), name="school_import"),
            path("import-school/files/<str:name>", view(self.school_import_file_view), name="school_import_file"),
            *super().get_urls(),
        ]

    def school_import_file_view(self, request, name: str):
        """A sample as shipped, or a template (.csv / .xlsx) with its example row."""
        if not self.has_school_import_permission(request):
            raise PermissionDenied
        if name in SAMPLES:
            content = (SAMPLES_DIR / name).read_bytes()
        else:
            stem, _, extension = name.rpartition(".")
            if stem not in TEMPLATES or extension not in {"csv", "xlsx"}:
                raise Http404
            preset = TEMPLATES[stem]
            dataset = Dataset(headers=list(preset.headers))
            dataset.append([preset.example.get(header, "") for header in preset.headers])
            content = dataset.export(extension)
        response = HttpResponse(content, content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def school_import_view(self, request):
        if not self.has_school_import_permission(request):
            raise PermissionDenied
        form, report, problems, token = SchoolImportForm(), None, [], ""
        if request.method == "POST":
            confirming = "confirm" in request.POST
            if not confirming:
                form = SchoolImportForm(request.POST, request.FILES)
            try:
                if confirming:
                    uploads = _unsigned(request.POST.get("checked", ""))
                elif form.is_valid():
                    uploads = _uploads([form.cleaned_data["file"], form.cleaned_data["family_file"]])
                else:
                    uploads = []
                if uploads:
                    rows = rows_read(uploads=uploads)
                    report = school_import_run(rows=rows, actor=request.user, commit=confirming)
            except DomainError as error:
                problems = [error.message, *error.fields.get("file", [])]
            if report and report.committed:
                messages.success(
                    request,
                    f"Imported: {rows_counted(report.count(NEW))} new, {report.count(UPDATED)} changed, "
                    f"{report.count(UNCHANGED)} already there. No email was sent.",
                )
            elif report and not report.failed:
                token = _signed(uploads)
        return render(
            request,
            "admin/school_import/import.html",
            {
                **self.admin_site.each_context(request),
                "title": "Import a school from spreadsheets",
                "opts": self.model._meta,
                "form": form,
                "problems": problems,
                "report": report,
                "checked": token,
                "samples": SAMPLES,
                "outcomes": {"new": NEW, "updated": UPDATED, "unchanged": UNCHANGED, "failed": FAILED},
            },
        )
