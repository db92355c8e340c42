"""The teacher's API: their day or week, what they have left to mark, their make-up blocks. A teacher reaches their
own; the school reaches every teacher's. Attendance and notes are written through `PATCH /api/v1/lessons/{id}/`."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from cedarheights.idempotency import idempotent
from cedarheights.permissions import SchoolAdminOrTeacher
from cedarheights.roles import is_school_admin
from cedarheights.selectors import school_today
from cedarheights.viewsets import AuditedReadsMixin
from scheduling.api.teacher_serializers import (
    MakeupBlockCreateSerializer,
    MakeupBlockSerializer,
    MakeupBlockTeacherCreateSerializer,
    TeachDayQuerySerializer,
    TeachLessonSerializer,
    TeachQuerySerializer,
)
from scheduling.makeup_blocks import makeup_block_create, makeup_block_delete
from scheduling.selectors import lessons_of_days, lessons_unmarked, makeup_blocks_visible_to


class TeachLessonListApi(AuditedReadsMixin, generics.ListAPIView):
    permission_classes = [SchoolAdminOrTeacher]
    serializer_class = TeachLessonSerializer
    filter_backends = []
    query_serializer_class = TeachQuerySerializer

    def query(self) -> dict:
        # An empty parameter (`?date=`, as a form sends it) is the same as leaving it out.
        given = {name: value for name, value in self.request.query_params.items() if value != ""}
        query = self.query_serializer_class(data=given)
        query.is_valid(raise_exception=True)
        return query.validated_data

    def teacher_id(self, query: dict) -> int | None:
        """The school asks for one teacher or all; a teacher always gets their own."""
        if is_school_admin(self.request.user):
            return query.get("teacher")
        return self.request.user.teacher.pk


class TeachDayApi(TeachLessonListApi):
    """The lessons of a local day (default today), or of the seven days from it with `week=true`, by start:
    cancelled ones too, each with its outcome ("" while still to come)."""

    query_serializer_class = TeachDayQuerySerializer

    def get_queryset(self):
        query = self.query()
        first_day = query.get("date") or school_today()
        last_day = first_day + timedelta(days=6 if query["week"] else 0)
        return lessons_of_days(teacher_id=self.teacher_id(query), first_day=first_day, last_day=last_day)

    @extend_schema(parameters=[TeachDayQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TeachUnmarkedApi(TeachLessonListApi):
    """Lessons that have ended without an outcome, oldest first: what is left to mark (attended or no-show)."""

    def get_queryset(self):
        query = self.query()
        lessons = lessons_unmarked(older_than=timedelta(0))
        if (teacher_id := self.teacher_id(query)) is not None:
            lessons = lessons.filter(teacher_id=teacher_id)
        return lessons

    @extend_schema(parameters=[TeachQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MakeupBlockViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Make-up blocks: time a teacher keeps for make-up lessons, offered to families with a credit. A teacher lists,
    adds and removes their own; the school, every teacher's. The list holds the blocks not over yet. A block that
    overlaps another of the teacher's is a 409 `makeup_block_overlap`; one with a make-up lesson booked inside cannot
    be removed (409 `makeup_block_in_use`)."""

    permission_classes = [SchoolAdminOrTeacher]
    serializer_class = MakeupBlockSerializer
    filterset_fields = ["teacher"]
    ordering_fields = ["start_at"]

    def get_queryset(self):
        blocks = makeup_blocks_visible_to(self.request.user)
        if self.action == "list":
            blocks = blocks.filter(end_at__gt=timezone.now())
        return blocks

    @extend_schema(
        request=MakeupBlockCreateSerializer,
        responses={201: MakeupBlockSerializer},
        description="The school names the `teacher`; a teacher sends only `start_at` and `end_at` (their own block: "
        "`teacher` is refused). A block starts ahead, within a year, lasts at most twelve hours and falls on no "
        "closed day.",
    )
    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        admin = is_school_admin(request.user)
        serializer = (MakeupBlockCreateSerializer if admin else MakeupBlockTeacherCreateSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        teacher = data.pop("teacher") if admin else request.user.teacher
        block = makeup_block_create(teacher=teacher, **data)
        return Response(MakeupBlockSerializer(block).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        makeup_block_delete(block=instance)
