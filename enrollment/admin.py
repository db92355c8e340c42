import uuid

from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from cedarheights.admin import admin_links, run_subject
from cedarheights.errors import DomainError
from cedarheights.models import PipelineRun
from enrollment.models import Enrollment, PreferredWindow, TuitionPlan
from enrollment.pipelines import waitlist_offer
from enrollment.views import editing_children, enrollment_forms, enrollment_forms_submit


@admin.register(TuitionPlan)
class TuitionPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "instrument", "lesson_minutes", "interval", "price", "active"]
    list_filter = ["active", "interval", "instrument", "lesson_minutes"]
    list_select_related = ["instrument"]
    search_fields = ["name"]
    autocomplete_fields = ["instrument"]

    @admin.display(description="price", ordering="price_cents")
    def price(self, plan: TuitionPlan) -> str:
        return plan.price_display


class PreferredWindowInline(admin.TabularInline):
    model = PreferredWindow
    extra = 0


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    change_list_template = "admin/enrollment/enrollment/change_list.html"
    actions = ["offer_slot"]
    list_display = [
        "created_at",
        "student",
        "instrument",
        "lesson_minutes",
        "tuition_plan",
        "status",
        "source",
        "teacher",
        "demo_at",
    ]
    list_filter = ["status", "source", "instrument"]
    list_select_related = ["student__teacher__user", "instrument", "tuition_plan", "demo_lesson"]
    search_fields = ["student__first_name", "student__last_name", "student__family__name"]
    autocomplete_fields = ["student", "instrument", "tuition_plan"]
    readonly_fields = ["idempotency_key", "submission_key", "demo_lesson", "pipeline_run", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [PreferredWindowInline]

    @admin.display(description="teacher", ordering="student__teacher__user__last_name")
    def teacher(self, enrollment: Enrollment):
        return enrollment.student.teacher or "—"

    @admin.display(description="demo lesson", ordering="demo_lesson__start_at")
    def demo_at(self, enrollment: Enrollment):
        return enrollment.demo_lesson.start_at if enrollment.demo_lesson else "—"

    @admin.display(description="pipeline run")
    def pipeline_run(self, enrollment: Enrollment):
        run = PipelineRun.objects.filter(
            pipeline="enrollment",
            reference=f"submission:{enrollment.submission_key}",
            status=PipelineRun.Status.SUCCEEDED,
        ).first()
        if run is None:
            return "—"
        steps = ", ".join(f"{step.name} {step.duration_ms:.1f} ms" for step in run.steps.all())
        url = reverse("admin:cedarheights_pipelinerun_change", args=[run.pk])
        return format_html('<a href="{}">{} ms</a>: {}', url, f"{run.duration_ms:.1f}", steps)

    @admin.action(description="Offer the first free slot (waitlisted only)")
    def offer_slot(self, request, queryset):
        for enrollment in queryset.filter(status=Enrollment.Status.WAITLISTED):
            try:
                result = waitlist_offer(enrollment=enrollment)
            except DomainError as error:  # offered from another page meanwhile
                self.message_user(request, error.message, messages.ERROR)
                continue
            if result.status == Enrollment.Status.ACTIVE:
                self.message_user(
                    request, f"{result.student}: demo lesson booked; the family is told.", messages.SUCCESS
                )
            else:
                self.message_user(request, f"{result.student}: still no free slot.", messages.WARNING)

    def get_urls(self):
        phone = self.admin_site.admin_view(self.enroll_by_phone)
        return [path("phone/", phone, name="enrollment_enrollment_phone"), *super().get_urls()]

    def enroll_by_phone(self, request):
        """The owner enrolls a family on the phone: the same pipeline; the card can follow later."""
        forms = enrollment_forms(request, with_parent=True)
        if key := enrollment_forms_submit(request, forms, source=Enrollment.Source.ADMIN):
            self.message_user(request, "Enrolled. The family gets the welcome email with the lesson details.")
            return redirect(reverse("admin:enrollment_enrollment_changelist") + f"?submission_key={key}")
        parent, children, windows, details = forms
        return render(
            request,
            "admin/enrollment/phone.html",
            {
                **self.admin_site.each_context(request),
                "title": "Enroll by phone",
                "parent_form": parent,
                "children": children,
                "windows": windows,
                "details": details,
                "editing_children": editing_children(request),
            },
        )


@run_subject("submission")
def _submissions(keys: list[str]) -> dict[str, tuple[str, str]]:
    """An enrollment run is about one submission (one or more children): named by its children, linked to their
    enrollments. A failed run left no enrollment, so it keeps its reference."""
    children: dict[str, list[str]] = {}
    enrollments = Enrollment.objects.filter(submission_key__in=_uuids(keys)).select_related("student")
    for enrollment in enrollments.order_by("pk"):
        children.setdefault(str(enrollment.submission_key), []).append(str(enrollment.student))
    changelist = reverse("admin:enrollment_enrollment_changelist")
    return {
        key: (f"Enrollment of {', '.join(names)}", f"{changelist}?submission_key={key}")
        for key, names in children.items()
    }


@run_subject("enrollment")
def _enrollments(ids: list[str]) -> dict[str, tuple[str, str]]:
    """A waitlist offer's run is about one enrollment."""
    return admin_links(Enrollment.objects.select_related("student", "instrument"), ids)


def _uuids(keys: list[str]) -> list[uuid.UUID]:
    found = []
    for key in keys:
        try:
            found.append(uuid.UUID(key))
        except ValueError:
            continue  # not a submission's key: nothing to describe
    return found
