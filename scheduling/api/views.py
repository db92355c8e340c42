from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cedarheights.filters import FilterSet, IntegerFilter, IsoDateTimeFilter
from cedarheights.idempotency import idempotent
from cedarheights.permissions import SchoolAdminParentOrTeacher
from cedarheights.roles import is_school_admin, is_teacher
from cedarheights.viewsets import AuditedReadsMixin, PublicApi, ReferenceViewSet, WriteServices
from scheduling.api.serializers import (
    AcademicYearSerializer,
    AvailabilitySerializer,
    ClosureSerializer,
    InstrumentSerializer,
    LessonAdminUpdateSerializer,
    LessonCancelSerializer,
    LessonCreateSerializer,
    LessonSerializer,
    LessonStaffSerializer,
    LessonTeacherCancelSerializer,
    LessonTeacherUpdateSerializer,
    PublicTeacherSerializer,
    RolloverSerializer,
    SlotSerializer,
    TeacherCancellationCreateSerializer,
    TeacherCancellationDecideSerializer,
    TeacherCancellationSerializer,
    TeacherSerializer,
    TermRolloverQuerySerializer,
    TermRolloverSerializer,
    TermSerializer,
    TimeslotQuerySerializer,
)
from scheduling.models import AcademicYear, Closure, Instrument, Lesson, Teacher, Term, WeeklyAvailability
from scheduling.selectors import lesson_list_visible_to, teacher_cancellation_list_visible_to
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
    lesson_teacher_cancel,
    teacher_cancellation_create,
    teacher_cancellation_decide,
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


OUTCOME_RULES = (
    'How a lesson ended is its `outcome` (`""` while still to come); its `status` follows it. The school writes any'
    " field below, `outcome` with an optional `reason` (kept when it cancels the lesson). A teacher writes only"
    " `outcome`, `status`, `notes` (private: families never read them) and `family_note` (the family reads it) of"
    " their own lessons; any other field is a 400 naming it. A teacher records attendance (`attended`, `no_show`, or"
    ' `""` to take it back) once the lesson has started, and cancels with `POST lessons/{id}/teacher-cancel/`. The'
    " older `status` is still written as before and means an outcome: `completed` is `attended`, `no_show` is"
    " `no_show`, `scheduled` is `\"\"`, and `cancelled` is the caller's cancellation (the school's: cancelled with"
    " notice; a teacher's needs a reason, so goes by `teacher-cancel/`). Send `outcome` or `status`, not both. Who may"
    " record which outcome when is the table in `scheduling/transitions.py`: otherwise a 400 `status_not_allowed`"
    " naming the field sent."
)
READ_SCOPE = (
    " The school and the lesson's teacher also read `notes`, the teacher's private notes; a family reads"
    " `family_note` only."
)

# The school's body; a teacher sends the part of it OUTCOME_RULES gives them.
LESSON_WRITE = extend_schema(
    request=LessonAdminUpdateSerializer, responses={200: LessonStaffSerializer}, description=OUTCOME_RULES
)


def lesson_read_serializer(user) -> type[LessonSerializer]:
    """What `user` reads of a lesson: the teacher's private notes only for the school and the teachers (the family's
    read is the default, and the schema's)."""
    return LessonStaffSerializer if is_school_admin(user) or is_teacher(user) else LessonSerializer


@extend_schema_view(
    list=extend_schema(description="Lessons, scoped by role, by start." + READ_SCOPE),
    retrieve=extend_schema(description="One lesson." + READ_SCOPE),
)
class LessonViewSet(
    AuditedReadsMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Lessons, scoped by role. A clash is a 409 naming the conflicting lesson. Lessons are cancelled, never deleted."""

    permission_classes = [SchoolAdminParentOrTeacher]
    parent_actions = {"list", "retrieve", "cancel"}
    teacher_actions = {"list", "retrieve", "update", "partial_update", "teacher_cancel"}
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
        if self.action == "teacher_cancel":
            return LessonTeacherCancelSerializer
        return lesson_read_serializer(self.request.user)

    def _read(self, lesson: Lesson) -> dict:
        return lesson_read_serializer(self.request.user)(lesson).data

    @extend_schema(request=LessonCreateSerializer, responses={201: LessonStaffSerializer})
    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        serializer = LessonCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["check_availability"] = not data.pop("ignore_availability")
        lesson = lesson_create(**data, actor=request.user)
        return Response(self._read(lesson), status=status.HTTP_201_CREATED)

    @LESSON_WRITE
    def update(self, request, *args, **kwargs):
        lesson = self.get_object()
        serializer = self.get_serializer(lesson, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        check_availability = not data.pop("ignore_availability", False)
        lesson = lesson_change(lesson=lesson, actor=request.user, check_availability=check_availability, **data)
        return Response(self._read(lesson))

    @LESSON_WRITE
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=LessonCancelSerializer, responses={200: LessonSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a lesson; who cancelled and why are kept. A family's cancellation is `cancelled_with_notice` before
        the school's notice window and `late_cancel` inside it; a lesson that has started is a 409 `too_late`."""
        serializer = LessonCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lesson = lesson_status_change(
            lesson=self.get_object(),
            status=Lesson.Status.CANCELLED,
            actor=request.user,
            reason=serializer.validated_data["reason"],
        )
        return Response(self._read(lesson), status=status.HTTP_200_OK)

    @extend_schema(request=LessonTeacherCancelSerializer, responses={200: LessonStaffSerializer})
    @action(detail=True, methods=["post"], url_path="teacher-cancel")
    def teacher_cancel(self, request, pk=None):
        """The lesson's teacher (or the school) cancels it, with a reason (a 400 without one): the outcome is
        `teacher_cancelled`, the family's make-up credit stands, and the owner is emailed to send a substitute
        instead (`POST teacher-cancellations/{id}/decide/`). Sent again, nothing more happens."""
        lesson = self.get_object()  # first: another teacher's lesson is a 404 whatever the body
        serializer = LessonTeacherCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lesson = lesson_teacher_cancel(lesson=lesson, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(self._read(lesson))


class TeacherCancellationViewSet(
    AuditedReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Teachers' cancellations: the school sees all, those awaiting its decision first; a teacher sees their own and
    reports one (the same as `POST lessons/{id}/teacher-cancel/`); families none."""

    permission_classes = [SchoolAdminParentOrTeacher]
    teacher_actions = {"list", "retrieve", "create"}
    filterset_fields = ["decision", "teacher"]
    ordering_fields = ["reported_at"]

    def get_queryset(self):
        return teacher_cancellation_list_visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return TeacherCancellationCreateSerializer
        if self.action == "decide":
            return TeacherCancellationDecideSerializer
        return TeacherCancellationSerializer

    @extend_schema(request=TeacherCancellationCreateSerializer, responses={201: TeacherCancellationSerializer})
    def create(self, request, *args, **kwargs):
        """A teacher cancels one of their lessons still to come, with a reason; the owner is emailed. Sent again for
        the same lesson, the first report is answered and nothing more happens."""
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cancellation = teacher_cancellation_create(actor=request.user, **serializer.validated_data)
        return Response(TeacherCancellationSerializer(cancellation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TeacherCancellationDecideSerializer, responses={200: TeacherCancellationSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """The school's answer (owner only): `substitute`, a teacher who takes the lesson (it is kept with them; a 409
        if they teach then, a 400 for the same teacher), or null: the family's make-up credit stands. Decided once: a
        different answer later is a 409 `cancellation_decided`, the same one again changes nothing."""
        cancellation = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cancellation = teacher_cancellation_decide(
            cancellation=cancellation, actor=request.user, substitute=serializer.validated_data["substitute"]
        )
        return Response(TeacherCancellationSerializer(cancellation).data)


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
    # Free times change with every booking: a browser asks again each time (and gets a 304 while they have not).
    cache_control = {"public": True, "no_cache": True}

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
        teachers = Teacher.objects.filter(id__in={s.teacher_id for s in page}).only(
            "user__first_name", "user__last_name"
        )
        names = {t.pk: t.user.get_full_name() for t in teachers}
        data = [
            {"start": s.start_at, "end": s.end_at, "teacher": {"id": s.teacher_id, "name": names[s.teacher_id]}}
            for s in page
        ]
        return self.get_paginated_response(SlotSerializer(data, many=True).data)
