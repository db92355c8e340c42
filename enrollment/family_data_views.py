"""The portal's "My data" page (PIPEDA principle 9): ask for the family's data and download it once, correct the
contact details and the children's names, ask to correct anything else. Parents only, their own family only."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.errors import ExportGone
from accounts.privacy_requests import (
    access_request_ask,
    contact_details_correct,
    correction_request_raise,
    data_export_take,
)
from accounts.selectors import (
    access_request_open_for,
    correction_requests_of,
    data_export_by_link,
    data_export_latest,
)
from cedarheights.errors import DomainError
from enrollment.family_data_forms import ChildNamesForm, ContactDetailsForm, CorrectionRequestForm
from enrollment.family_views import parent_only
from scheduling.models import Student
from scheduling.services import student_names_correct


def _children(request):
    return Student.objects.filter(family_id=request.user.family_id).order_by("first_name", "pk")


def _page(request, *, details=None, names=None, correction=None, status=200):
    family = request.user.family
    export = data_export_latest(family_id=family.pk)
    now = timezone.now()
    context = {
        "access_request": access_request_open_for(family_id=family.pk),
        "export": export,
        "export_spent": export is not None and export.is_spent(now),
        "now": now,
        "corrections": correction_requests_of(family_id=family.pk),
        "details": details or ContactDetailsForm(parent=request.user, family=family),
        "names": names or ChildNamesForm(children=_children(request)),
        "correction": correction or CorrectionRequestForm(),
    }
    return render(request, "enrollment/family/my_data.html", context, status=status)


@parent_only
def family_my_data(request):
    return _page(request)


@parent_only
@require_POST
def family_data_ask(request):
    access_request, created, fresh_copy = access_request_ask(family=request.user.family, parent=request.user)
    if created:
        messages.success(
            request,
            "Request received. Your family's data is being put together: the download link "
            "appears here and is emailed to you in a moment.",
        )
    elif fresh_copy:
        messages.success(
            request,
            f"Your request of {access_request.received_on:%-d %B %Y} is still open: a new copy of your data is being "
            "put together, and its link appears here and is emailed to you in a moment.",
        )
    else:
        messages.info(
            request,
            f"Your request of {access_request.received_on:%-d %B %Y} is still open: "
            f"we answer it by {access_request.due_on:%-d %B %Y}.",
        )
    return redirect("family-my-data")


@parent_only
@require_POST
def family_details_correct(request):
    form = ContactDetailsForm(request.POST, parent=request.user, family=request.user.family)
    if form.is_valid():
        try:
            contact_details_correct(
                parent=request.user, parent_fields=form.parent_changes(), family_fields=form.family_changes()
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your contact details are saved.")
            return redirect("family-my-data")
    return _page(request, details=form)


@parent_only
@require_POST
def family_children_correct(request):
    form = ChildNamesForm(request.POST, children=_children(request))
    if form.is_valid():
        try:
            student_names_correct(parent=request.user, names=form.names())
        except DomainError as error:
            form.add_error(None, error.message)
        except ValidationError as error:  # the model's own validators, run by the service's full_clean
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Your children's names are saved.")
            return redirect("family-my-data")
    return _page(request, names=form)


@parent_only
@require_POST
def family_correction_request(request):
    form = CorrectionRequestForm(request.POST)
    if form.is_valid():
        try:
            correction_request_raise(family=request.user.family, parent=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your request is sent to the school: you will find its answer here.")
            return redirect("family-my-data")
    return _page(request, correction=form)


def _gone(request, gone: ExportGone):
    return render(request, "enrollment/family/export_gone.html", {"message": gone.message}, status=gone.status)


def _download(request, **which):
    try:
        export = data_export_take(family_id=request.user.family_id, **which)
    except ExportGone as gone:
        return _gone(request, gone)
    response = HttpResponse(bytes(export.content), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


@parent_only
@require_POST
def family_data_export(request, export_id: int):
    """The export's download from the portal's button: once."""
    return _download(request, export_id=export_id)


@parent_only
def family_data_export_link(request, token: str):
    """The emailed link (signed in as a parent of the family): opening it shows a button, and the button's POST
    downloads, once, until it expires. A GET never spends the download: mail scanners open links before people do,
    and so can another site."""
    if request.method == "POST":
        return _download(request, token=token)
    if data_export_by_link(family_id=request.user.family_id, token=token) is None:
        return _gone(request, ExportGone())
    return render(request, "enrollment/family/export_ready.html")
