from django.contrib import admin

from cedarheights.admin import AuditedAdmin
from enrollment.models import Enrollment, PreferredWindow, Student


@admin.register(Student)
class StudentAdmin(AuditedAdmin):
    list_display = ["__str__", "family", "instrument", "level", "teacher", "status", "date_of_birth"]
    list_filter = ["status", "instrument", "level", "teacher"]
    list_select_related = ["family", "instrument", "teacher__user"]
    search_fields = ["first_name", "last_name", "family__name", "family__parents__email"]
    autocomplete_fields = ["family", "instrument", "teacher"]


class PreferredWindowInline(admin.TabularInline):
    model = PreferredWindow
    extra = 0


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
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
    readonly_fields = ["idempotency_key", "demo_lesson", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [PreferredWindowInline]

    @admin.display(description="teacher", ordering="student__teacher__user__last_name")
    def teacher(self, enrollment: Enrollment):
        return enrollment.student.teacher or "—"

    @admin.display(description="demo lesson", ordering="demo_lesson__start_at")
    def demo_at(self, enrollment: Enrollment):
        return enrollment.demo_lesson.start_at if enrollment.demo_lesson else "—"
