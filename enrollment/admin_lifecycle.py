"""The owner's pages for an enrollment's life after it starts, on its admin page: change the weekly lesson from a
date (form → preview → confirm), a vacation pause (and ending one early), a withdrawal with notice. Each page
parses a form and calls one service; a refusal is shown on the form with what was typed."""

import uuid

from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from cedarheights.admin import domain_error_on_form
from cedarheights.errors import DomainError
from cedarheights.selectors import school_settings_get, school_today
from enrollment.lifecycle.changes import enrollment_change, enrollment_change_preview
from enrollment.lifecycle.forms import (
    EnrollmentChangeForm,
    EnrollmentPauseForm,
    EnrollmentWithdrawForm,
    change_token_arguments,
    change_token_payload,
)
from enrollment.lifecycle.pauses import enrollment_pause, enrollment_pause_end, pause_live_get
from enrollment.lifecycle.withdrawals import enrollment_withdraw, withdrawal_quote
from enrollment.models import Enrollment, EnrollmentChange, EnrollmentPause

CHANGE_TOKEN_SALT = "enrollment.change.confirm"
CHANGE_TOKEN_MAX_AGE = 60 * 60  # a preview older than an hour is previewed again


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EnrollmentPauseInline(_ReadOnlyInline):
    model = EnrollmentPause
    fk_name = "enrollment"
    fields = readonly_fields = ["starts_on", "resumes_on", "lessons", "lessons_released", "ended_on", "created_by"]
    verbose_name_plural = "vacation pauses"


class EnrollmentChangeInline(_ReadOnlyInline):
    model = EnrollmentChange
    fields = readonly_fields = ["effective_on", "before", "after", "lessons_released", "lessons_booked", "created_by"]
    verbose_name_plural = "weekly lesson changes"


class EnrollmentLifecycleAdminMixin:
    change_form_template = "admin/enrollment/enrollment/change_form.html"
    lifecycle_inlines = [EnrollmentPauseInline, EnrollmentChangeInline]
    lifecycle_readonly_fields = ["activated_at", "withdrawal_given_on", "ends_on"]

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *self.lifecycle_inlines]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.lifecycle_readonly_fields]

    def get_urls(self):
        def view(method):
            return self.admin_site.admin_view(method)

        return [
            path("<int:pk>/change-weekly/", view(self.change_weekly_view), name="enrollment_enrollment_change_weekly"),
            path("<int:pk>/pause/", view(self.pause_view), name="enrollment_enrollment_pause"),
            path("pauses/<int:pause_pk>/end/", view(self.pause_end_view), name="enrollment_enrollment_pause_end"),
            path("<int:pk>/withdraw/", view(self.withdraw_view), name="enrollment_enrollment_withdraw"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {}
        if (enrollment := Enrollment.objects.filter(pk=object_id).first() if object_id.isdigit() else None) is not None:
            extra = {
                "lifecycle_active": enrollment.status == Enrollment.Status.ACTIVE,
                "live_pause": pause_live_get(enrollment=enrollment),
                "ends_on": enrollment.ends_on,
                "pk": enrollment.pk,
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _enrollment(self, request, pk: int) -> Enrollment:
        if not request.user.has_perm("enrollment.change_enrollment"):
            raise PermissionDenied
        return get_object_or_404(Enrollment.objects.select_related("student", "instrument"), pk=pk)

    def _page(self, request, template: str, title: str, **context):
        return render(request, template, {**self.admin_site.each_context(request), "title": title, **context})

    def change_weekly_view(self, request, pk: int):
        """Form → preview (what changes, nothing written) → confirm: the confirmation carries the previewed input,
        signed, with the key that makes a second click return the same change."""
        enrollment = self._enrollment(request, pk)
        title = f"Change {enrollment.student}'s weekly lesson"
        back = reverse("admin:enrollment_enrollment_change", args=[pk])
        if request.method == "POST" and "token" in request.POST:
            try:
                signed = signing.loads(request.POST["token"], salt=CHANGE_TOKEN_SALT, max_age=CHANGE_TOKEN_MAX_AGE)
                if signed["enrollment"] != pk:
                    raise signing.BadSignature("another enrollment")
            except signing.BadSignature:
                self.message_user(
                    request, "That preview is too old or not ours: preview the change again.", messages.ERROR
                )
                return redirect(request.path)
            try:
                change = enrollment_change(
                    actor=request.user,
                    enrollment=enrollment,
                    idempotency_key=uuid.UUID(signed["key"]),
                    **change_token_arguments(signed["change"]),
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
                return redirect(request.path)
            self.message_user(
                request,
                f"Changed from {change.effective_on:%A %-d %B %Y}: {change.lessons_booked} lessons booked, "
                f"{change.lessons_released} released. The family and the teachers are emailed.",
                messages.SUCCESS,
            )
            return redirect(back)
        form = EnrollmentChangeForm(request.POST or None, initial={"effective_on": school_today()})
        preview = token = None
        if request.method == "POST" and form.is_valid():
            try:
                preview = enrollment_change_preview(enrollment=enrollment, **form.arguments())
            except DomainError as error:
                domain_error_on_form(form, error)
            else:
                payload = {"enrollment": pk, "key": str(uuid.uuid4()), "change": change_token_payload(form.arguments())}
                token = signing.dumps(payload, salt=CHANGE_TOKEN_SALT)
        return self._page(
            request,
            "admin/enrollment/enrollment/change_weekly.html",
            title,
            form=form,
            preview=preview,
            token=token,
            back=back,
            enrollment=enrollment,
            zone=school_settings_get().zone,
        )

    def pause_view(self, request, pk: int):
        enrollment = self._enrollment(request, pk)
        form = EnrollmentPauseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                pause = enrollment_pause(actor=request.user, enrollment=enrollment, **form.arguments())
            except DomainError as error:
                domain_error_on_form(form, error)
            else:
                self.message_user(request, f"{pause}: the family and the teacher are emailed.", messages.SUCCESS)
                return redirect("admin:enrollment_enrollment_change", pk)
        return self._page(
            request,
            "admin/action_form.html",
            f"Vacation pause for {enrollment.student}",
            form=form,
            intro="No lessons and no tuition from the first day until lessons resume. (Not the pause for unpaid "
            "tuition.)",
            submit="Pause",
        )

    def pause_end_view(self, request, pause_pk: int):
        pause = get_object_or_404(EnrollmentPause.objects.select_related("enrollment__student"), pk=pause_pk)
        self._enrollment(request, pause.enrollment_id)
        if request.method == "POST":
            try:
                pause = enrollment_pause_end(actor=request.user, pause=pause)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Pause ended: lessons resume {pause.ended_on:%-d %b %Y}.", messages.SUCCESS)
        return redirect("admin:enrollment_enrollment_change", pause.enrollment_id)

    def withdraw_view(self, request, pk: int):
        enrollment = self._enrollment(request, pk)
        form = EnrollmentWithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                enrollment = enrollment_withdraw(actor=request.user, enrollment=enrollment, **form.arguments())
            except DomainError as error:
                domain_error_on_form(form, error)
            else:
                self.message_user(
                    request, f"Withdrawn: the last lesson is on {enrollment.ends_on:%A %-d %B %Y}.", messages.SUCCESS
                )
                return redirect("admin:enrollment_enrollment_change", pk)
        quote = withdrawal_quote(enrollment=enrollment, notice_given_on=school_today())
        return self._page(
            request,
            "admin/action_form.html",
            f"Withdraw {enrollment.student}",
            form=form,
            intro=f"With notice given today, the last lesson is on {quote.last_lesson_on:%A %-d %B %Y}; later "
            "lessons and the weekly time are released then, and open make-up credits expire with it.",
            submit="Withdraw",
        )
