from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cedarheights.filters import FilterSet, IntegerFilter, IsoDateTimeFilter
from cedarheights.idempotency import idempotent
from cedarheights.permissions import SchoolAdminParentOrTeacher
from cedarheights.roles import is_school_admin
from cedarheights.viewsets import PublicApi, ReferenceViewSet, WriteServices
from scheduling.api.serializers import (
    AcademicYearSerializer,
    AvailabilitySerializer,
    ClosureSerializer,
    InstrumentSerializer,
    LessonAdminUpdateSerializer,
    LessonCancelSerializer,
    LessonCreateSerializer,
    LessonSerializer,
    LessonTeacherUpdateSerializer,
    PublicTeacherSerializer,
    RolloverSerializer,
    SlotSerializer,
    TeacherSerializer,
    TermRolloverQuerySerializer,
    TermRolloverSerializer,
    TermSerializer,
    TimeslotQuerySerializer,
)
from scheduling.models import AcademicYear, Closure, Instrument, Lesson, Teacher, Term, WeeklyAvailability
from scheduling.selectors import lesson_list_visible_to
from scheduling.services import (
    academic_year_create,
    academic_year_delete,
    academic_year_update,
    availability_create,
    availability_delete,
    availability_update,
    closure_create,
    closure_delete,
    closure_update,
    instrument_create,
    instrument_delete,
    instrument_update,
    lesson_change,
    lesson_create,
    lesson_status_change,
    teacher_create,
    teacher_delete,
    teacher_update,
    term_create,
    term_delete,
    term_update,
)
from scheduling.slots import slots_free
from scheduling.weekly_lessons import term_rollover, term_rollover_preview


class InstrumentViewSet(ReferenceViewSet):
    services = WriteServices("instrument", instrument_create, instrument_update, instrument_delete)
    queryset = Instrument.objects.order_by("name")
    serializer_class = InstrumentSerializer
    filterset_fields = ["active"]
    search_fields = ["name"]
    ordering_fields = ["name"]


class TeacherViewSet(ReferenceViewSet):
    services = WriteServices("teacher", teacher_create, teacher_update, teacher_delete)
    queryset = Teacher.objects.prefetch_related("instruments", "availability").order_by("user__last_name", "id")
    serializer_class = TeacherSerializer
    filterset_fields = ["active", "instruments"]
    search_fields = ["user__first_name", "user__last_name"]
    ordering_fields = ["user__last_name", "capacity"]


class AvailabilityViewSet(ReferenceViewSet):
    services = WriteServices("availability", availability_create, availability_update, availability_delete)
    queryset = WeeklyAvailability.objects.order_by("teacher_id", "weekday", "start_time")
    serializer_class = AvailabilitySerializer
    filterset_fields = ["teacher", "weekday"]
    ordering_fields = ["weekday", "start_time"]


class AcademicYearViewSet(ReferenceViewSet):
    services = WriteServices("academic_year", academic_year_create, academic_year_update, academic_year_delete)
    queryset = AcademicYear.objects.order_by("-start_date")
    serializer_class = AcademicYearSerializer
    search_fields = ["name"]
    ordering_fields = ["start_date", "name"]


class TermViewSet(ReferenceViewSet):
    services = WriteServices("term", term_create, term_update, term_delete)
    queryset = Term.objects.order_by("start_date")
    serializer_class = TermSerializer
    filterset_fields = ["academic_year"]
    search_fields = ["name"]
    ordering_fields = ["start_date", "name"]

    @extend_schema(
        request=TermRolloverSerializer,
        parameters=[OpenApiParameter("preview", bool, description="`1` or `true`: the preview, nothing written.")],
        responses={200: RolloverSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def rollover(self, request, pk=None):
        """The school's admins only: book every active child's weekly lesson into this term (from tomorrow), at
        the same weekday and wall-clock time with the same teacher, closures skipped. A weekly lesson with a
        conflict (a week clashing with another lesson, a teacher inactive or no longer teaching then) books no
        week and is listed with each reason; the others are booked. Sending it again books nothing new. With
        `?preview=1` or `{"preview": true}`: what would be booked, and nothing is written."""
        body = TermRolloverSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        query = TermRolloverQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        term = self.get_object()
        if body.validated_data["preview"] or query.validated_data.get("preview"):
            rollover = term_rollover_preview(term=term)
        else:
            rollover = term_rollover(term=term, actor=request.user)
        return Response(RolloverSerializer(rollover).data)


class ClosureViewSet(ReferenceViewSet):
    services = WriteServices("closure", closure_create, closure_update, closure_delete)
    queryset = Closure.objects.order_by("start_date", "id")
    serializer_class = ClosureSerializer
    filterset_fields = ["teacher", "term"]
    search_fields = ["reason"]
    ordering_fields = ["start_date"]


class LessonFilter(FilterSet):
    start_after = IsoDateTimeFilter(field_name="start_at", lookup_expr="gte")
    start_before = IsoDateTimeFilter(field_name="start_at", lookup_expr="lt")
    teacher = IntegerFilter(field_name="teacher_id")
    student = IntegerFilter(field_name="student_id")

    class Meta:
        model = Lesson
        fields = ["teacher", "student", "status", "kind", "term", "payment_status"]


STATUS_RULES = (
    "A teacher may write only `status` and `notes` of their own lessons; any other field is a 400. `status` changes"
    " only as `scheduling/transitions.py` allows each role (a 400 naming `status` otherwise): a teacher marks"
    " attendance (`completed`, `no_show`) once the lesson has started; only the school reopens a cancelled lesson."
)


class LessonViewSet(mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Lessons, scoped by role. A clash is a 409 naming the conflicting lesson. Lessons are cancelled, never deleted."""

    permission_classes = [SchoolAdminParentOrTeacher]
    parent_actions = {"list", "retrieve", "cancel"}
    teacher_actions = {"list", "retrieve", "update", "partial_update"}
    filterset_class = LessonFilter
    ordering_fields = ["start_at"]

    def get_queryset(self):
        return lesson_list_visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return LessonCreateSerializer
        if self.action in {"update", "partial_update"}:
            return LessonAdminUpdateSerializer if is_school_admin(self.request.user) else LessonTeacherUpdateSerializer
        if self.action == "cancel":
            return LessonCancelSerializer
        return LessonSerializer

    @extend_schema(request=LessonCreateSerializer, responses={201: LessonSerializer})
    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        serializer = LessonCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["check_availability"] = not data.pop("ignore_availability")
        return Response(LessonSerializer(lesson_create(**data)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=LessonAdminUpdateSerializer,
        responses={200: LessonSerializer},
        description=STATUS_RULES,
    )
    def update(self, request, *args, **kwargs):
        lesson = self.get_object()
        serializer = self.get_serializer(lesson, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        check_availability = not data.pop("ignore_availability", False)
        lesson = lesson_change(lesson=lesson, actor=request.user, check_availability=check_availability, **data)
        return Response(LessonSerializer(lesson).data)

    @extend_schema(
        request=LessonAdminUpdateSerializer,
        responses={200: LessonSerializer},
        description=STATUS_RULES,
    )
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=LessonCancelSerializer, responses={200: LessonSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a lesson; who cancelled and why are kept. A parent can cancel only before the school's notice
        window."""
        serializer = LessonCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lesson = lesson_status_change(
            lesson=self.get_object(),
            status=Lesson.Status.CANCELLED,
            actor=request.user,
            reason=serializer.validated_data["reason"],
        )
        return Response(LessonSerializer(lesson).data, status=status.HTTP_200_OK)


class PublicTeacherListApi(PublicApi, generics.ListAPIView):
    serializer_class = PublicTeacherSerializer
    queryset = (
        Teacher.objects.filter(active=True)
        # A plain list on each teacher (to_attr): no related manager made per teacher, a third of the page's time.
        .prefetch_related(Prefetch("instruments", queryset=Instrument.objects.order_by("name"), to_attr="taught"))
        .order_by("user__last_name", "user__first_name", "id")
    )
    filterset_fields = ["instruments"]
    ordering_fields = ["user__last_name"]
    search_fields = ["user__first_name", "user__last_name", "bio"]


class PublicTimeslotListApi(PublicApi, generics.GenericAPIView):
    serializer_class = SlotSerializer
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("instrument", int, required=True, description="An instrument id."),
            OpenApiParameter("start", str, required=True, description="First local date, YYYY-MM-DD."),
            OpenApiParameter("end", str, required=True, description="Last local date, at most 62 days later."),
            OpenApiParameter("minutes", int, enum=[30, 45, 60], description="Lesson length (default 30)."),
        ],
        responses={200: SlotSerializer(many=True)},
    )
    def get(self, request):
        """Free lesson times of every teacher of an instrument, in the school's local time with offsets."""
        query = TimeslotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        args = query.validated_data
        slots = slots_free(
            instrument_id=args["instrument"].pk, start_date=args["start"], end_date=args["end"], minutes=args["minutes"]
        )
        page = self.paginate_queryset(slots)
        names = {t.pk: t.user.get_full_name() for t in Teacher.objects.filter(id__in={s.teacher_id for s in page})}
        data = [
            {"start": s.start_at, "end": s.end_at, "teacher": {"id": s.teacher_id, "name": names[s.teacher_id]}}
            for s in page
        ]
        return self.get_paginated_response(SlotSerializer(data, many=True).data)
