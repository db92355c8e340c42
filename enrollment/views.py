import uuid

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache

from cedarheights.errors import DomainError
from cedarheights.roles import is_parent
from cedarheights.selectors import school_today
from enrollment.calendar import lesson_ics, lesson_ics_filename
from enrollment.confirmation import confirmation_path, confirmation_token_read
from enrollment.errors import ConfirmationExpired
from enrollment.forms import ChildFormSet, DetailsForm, ParentForm, WindowFormSet, child_blocks, tuition_plan_fees
from enrollment.inputs import ChildInput, EnrollmentInput, windows_from_cleaned
from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from enrollment.selectors import submission_enrollments
from enrollment.throttles import EnrollmentThrottle
from enrollment.tuition import enrollments_tuition_described


def _filled(formset) -> list[dict]:
    return [form.cleaned_data for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]


def _place_errors(error: DomainError, parent, children, windows, details) -> None:
    """Each error next to its field: the pipeline names fields as the forms do (`children-0-date_of_birth`)."""
    for name, messages in (error.fields or {"__all__": [error.message]}).items():
        for message in messages:
            group, _, rest = name.partition("-")
            index, _, field = rest.partition("-")
            if group in {"children", "windows"} and index.isdigit():
                formset = children if group == "children" else windows
                if int(index) < len(formset.forms):
                    formset.forms[int(index)].add_error(field or None, message)
                    continue
            target = next((f for f in (parent, details) if f is not None and name in f.fields), None)
            if target is not None:
                target.add_error(name, message)
            elif group == "windows":
                windows.forms[0].add_error(None, message)
            else:
                details.add_error(None, message)


def editing_children(request) -> bool:
    """The family pressed "Add another child" or "Remove" (without JavaScript): re-render, do not enroll."""
    return request.method == "POST" and ("add_child" in request.POST or "remove_child" in request.POST)


def enrollment_forms(request, *, with_parent: bool):
    """The page's forms, bound to what was posted: parent, children, weekly windows, plan and consent."""
    data = None
    if request.method == "POST":
        remove = request.POST.get("remove_child", "")
        data = child_blocks(
            request.POST, add="add_child" in request.POST, remove=int(remove) if remove.isdigit() else None
        )
    parent = ParentForm(data) if with_parent else None
    return parent, ChildFormSet(data, prefix="children"), WindowFormSet(data, prefix="windows"), DetailsForm(data)


def enrollment_forms_submit(request, forms, *, source: str) -> uuid.UUID | None:
    """Run the pipeline on valid forms, as the signed-in user if any; its errors go next to their fields. The
    submission's key, or None."""
    parent, children, windows, details = forms
    if request.method != "POST" or editing_children(request) or not all(f.is_valid() for f in forms if f is not None):
        return None
    key = details.cleaned_data["idempotency_key"]
    form = EnrollmentInput(
        children=[ChildInput.from_cleaned(c) for c in _filled(children)],
        windows=windows_from_cleaned(_filled(windows)),
        tuition_plan_id=details.cleaned_data["tuition_plan"].pk,
        consent=details.cleaned_data["consent"],
        notice_version=details.cleaned_data["notice_version"],
        marketing=details.cleaned_data["marketing"],
        payment_method_id=details.cleaned_data["payment_method_id"] or "",
        source=source,
        **(parent.cleaned_data if parent else {}),
    )
    try:
        enrollment_submit(
            form=form,
            idempotency_key=key,
            user=request.user if request.user.is_authenticated else None,
            site_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except DomainError as error:
        _place_errors(error, parent, children, windows, details)
        if "payment_method_id" in (error.fields or {}):  # a refused card is not kept: the parent types another
            details.data = details.data.copy()
            details.data["payment_method_id"] = ""
        return None
    return key


ENROLLING_TOO_OFTEN = "Too many enrollments were sent from here in a short time. Please try again later."


def enroll(request):
    """The public enrollment page: one or more children, weekly windows, a plan, consent and a card.

    A signed-in parent sees the confirmation at once; anyone else is asked to check their email, whether the
    address is new or already has an account (see `EnrollmentCreateApi`). Posts by someone not signed in are
    limited per client, with the API's count."""
    signed_in = is_parent(request.user)
    forms = enrollment_forms(request, with_parent=not signed_in)
    parent, children, windows, details = forms
    status = 200
    sending = request.method == "POST" and not editing_children(request)
    if sending and not EnrollmentThrottle().allow_request(request, None):
        details.add_error(None, ENROLLING_TOO_OFTEN)
        status = 429
    elif key := enrollment_forms_submit(request, forms, source=Enrollment.Source.WEB):
        return redirect(confirmation_path(key)) if signed_in else redirect("enroll-check-email")
    return render(
        request,
        "enrollment/enroll.html",
        {
            "parent_form": parent,
            "children": children,
            "windows": windows,
            "details": details,
            "plan_fees": tuition_plan_fees(windows=windows, on=school_today()),
            "editing_children": editing_children(request),
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_public_key": settings.STRIPE_PUBLIC_KEY,
        },
        status=status,
    )


def enroll_check_email(request):
    """What everyone not signed in sees after enrolling: the next step is in their email."""
    return render(request, "enrollment/check_email.html")


def _linked_enrollments(token: str) -> list[Enrollment]:
    """The enrollments a confirmation link is for (`ConfirmationExpired` once it is too old); 404 for a link not
    made here."""
    try:
        enrollments = submission_enrollments(idempotency_key=confirmation_token_read(token=token))
    except (signing.BadSignature, ValueError):
        raise Http404("No such enrollment.") from None
    if not enrollments:
        raise Http404("No such enrollment.")
    return enrollments


def _link_expired(request) -> HttpResponse:
    return render(request, "enrollment/link_expired.html", status=410)


@never_cache
def enroll_done(request, token: str):
    """The confirmation, through the signed link (seven days): each child's first name, teacher's first name,
    demo lesson in local time, and what happens next."""
    try:
        enrollments = _linked_enrollments(token)
    except ConfirmationExpired:
        return _link_expired(request)
    return render(
        request,
        "enrollment/done.html",
        {
            "token": token,
            "booked": enrollments_tuition_described(
                enrollments=[e for e in enrollments if e.status == Enrollment.Status.ACTIVE]
            ),
            "waitlisted": [e for e in enrollments if e.status == Enrollment.Status.WAITLISTED],
        },
    )


@never_cache
def enroll_lesson_ics(request, token: str, lesson_id: int):
    """An "add to calendar" file for a demo lesson of this submission (and of no other), through the same link."""
    try:
        enrollments = _linked_enrollments(token)
    except ConfirmationExpired:
        return _link_expired(request)
    demo = next((e.demo_lesson for e in enrollments if e.demo_lesson_id == lesson_id), None)
    if demo is None:
        raise Http404("No such lesson.")
    response = HttpResponse(lesson_ics(demo), content_type="text/calendar")
    response["Content-Disposition"] = content_disposition_header(True, lesson_ics_filename(demo))
    return response
