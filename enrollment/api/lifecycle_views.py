"""An enrollment's life after it starts (`/api/v1/enrollments/{id}/`): read it (its weekly time, a pause, a
withdrawal's last lesson); the school's admins change its weekly lesson from a date (`preview: true` first),
pause it or end a pause; the school and the child's parents give notice of withdrawal. Each action calls one
service of enrollment/lifecycle; refusals are the services' errors (409 for a clash, with the weeks)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cedarheights.idempotency import idempotent
from cedarheights.models import SchoolSettings
from cedarheights.permissions import SchoolAdminParentOrTeacher
from cedarheights.roles import is_parent, is_school_admin
from cedarheights.selectors import school_today
from cedarheights.viewsets import AuditedReadsMixin
from enrollment.api.lifecycle_serializers import (
    ChangePreviewSerializer,
    EnrollmentChangeInputSerializer,
    EnrollmentChangeSerializer,
    EnrollmentLifecycleSerializer,
    EnrollmentPauseInputSerializer,
    EnrollmentWithdrawInputSerializer,
    NoBodySerializer,
    PauseSerializer,
)
from enrollment.errors import PauseNotLive
from enrollment.lifecycle.changes import enrollment_change, enrollment_change_preview
from enrollment.lifecycle.pauses import enrollment_pause, enrollment_pause_end, pause_live_get
from enrollment.lifecycle.withdrawals import enrollment_withdraw
from enrollment.models import Enrollment

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, description="Any unique string per change, e.g. a UUID."
)


class EnrollmentLifecycleViewSet(AuditedReadsMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A child's enrollment: the school's admins reach every one, a parent their own children's."""

    serializer_class = EnrollmentLifecycleSerializer
    permission_classes = [SchoolAdminParentOrTeacher]
    parent_actions = {"retrieve", "withdraw"}  # a child's parents read it and give notice; teachers nothing
    teacher_actions: set[str] = set()

    def get_queryset(self):
        enrollments = Enrollment.objects.select_related("student", "instrument").order_by("pk")
        user = self.request.user
        if is_school_admin(user):
            return enrollments
        if is_parent(user):
            return enrollments.filter(student__family_id=user.family_id)
        return enrollments.none()

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _answer(self, enrollment: Enrollment, code: int = status.HTTP_200_OK) -> Response:
        return Response(EnrollmentLifecycleSerializer(Enrollment.objects.get(pk=enrollment.pk)).data, status=code)

    @extend_schema(
        request=EnrollmentChangeInputSerializer,
        responses={200: ChangePreviewSerializer, 201: EnrollmentChangeSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    def change(self, request, pk=None):
        """Change the weekly lesson from `effective_on`: its weekday, time, teacher, length or plan (those left out
        stay). `preview: true` answers what would change (lessons week by week, conflicts, money) and writes
        nothing; otherwise the change is made whole (201) or refused whole (409 naming the weeks that clash). With
        an `Idempotency-Key`, a repeated request changes once."""
        enrollment = self.get_object()
        arguments = self._input(EnrollmentChangeInputSerializer)
        if arguments.pop("preview"):
            preview = enrollment_change_preview(enrollment=enrollment, **arguments)
            return Response(ChangePreviewSerializer(preview).data)
        return idempotent(request, lambda: self._change(enrollment, arguments))

    def _change(self, enrollment: Enrollment, arguments: dict) -> Response:
        change = enrollment_change(actor=self.request.user, enrollment=enrollment, **arguments)
        return Response(EnrollmentChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EnrollmentPauseInputSerializer, responses={201: PauseSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """A vacation pause: no lessons and no tuition from `starts_on` until `resumes_on`; the lessons in between
        released or kept (`lessons`, else the school's setting). Not the pause for unpaid tuition."""
        enrollment = self.get_object()
        arguments = self._input(EnrollmentPauseInputSerializer)
        lessons = arguments.pop("lessons", None)
        release = None if lessons is None else lessons == SchoolSettings.PauseLessons.RELEASE
        pause = enrollment_pause(actor=request.user, enrollment=enrollment, release_lessons=release, **arguments)
        return Response(PauseSerializer(pause).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NoBodySerializer, responses={200: PauseSerializer}, operation_id="enrollments_end_pause")
    @action(detail=True, methods=["post"], url_path="end-pause")
    def pause_end(self, request, pk=None):
        """End the vacation pause on now (or call off one to come): lessons and tuition resume today."""
        enrollment = self.get_object()
        self._input(NoBodySerializer)
        if (pause := pause_live_get(enrollment=enrollment)) is None:
            raise PauseNotLive(f"{enrollment.student} is not on a vacation pause.")
        return Response(PauseSerializer(enrollment_pause_end(actor=request.user, pause=pause)).data)

    @extend_schema(request=EnrollmentWithdrawInputSerializer, responses={200: EnrollmentLifecycleSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Give notice of withdrawal (today unless `notice_given_on`): the answer's `ends_on` is the last lesson.
        Lessons paid for after it become a credit or a refund: the school's setting, or `unused_lessons` when the
        school's admin gives it."""
        enrollment = self.get_object()
        arguments = self._input(EnrollmentWithdrawInputSerializer)
        if "unused_lessons" in arguments and not is_school_admin(request.user):
            raise PermissionDenied("The school decides what lessons paid after the last one become.")
        enrollment = enrollment_withdraw(
            actor=request.user,
            enrollment=enrollment,
            notice_given_on=arguments.get("notice_given_on") or school_today(),
            unused_lessons=arguments.get("unused_lessons"),
        )
        return self._answer(enrollment)
