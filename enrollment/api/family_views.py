"""The family's API: on `lessons/`, what cancelling a lesson would be, the family's cancel and the reschedule; on
`makeup-credits/`, the credits with their ledger, the make-up times one may book, and booking one. A parent acts for
their own children and the school for anyone's; teachers have no part in either (403), and another family's lesson
or credit is a 404. The rules are enrollment/makeups.py's; these views parse, call it and answer."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cedarheights.filters import FilterSet, IntegerFilter
from cedarheights.idempotency import idempotent
from cedarheights.permissions import SchoolAdminParentOrTeacher
from cedarheights.roles import is_parent
from cedarheights.viewsets import AuditedReadsMixin
from enrollment.api.family_serializers import (
    CancellationPreviewSerializer,
    CancellationQuerySerializer,
    FamilyCancellationSerializer,
    FamilyCancelSerializer,
    MakeupCreditSerializer,
    MakeupOfferSerializer,
    MakeupOffersQuerySerializer,
    MakeupTimeSerializer,
)
from enrollment.family_selectors import (
    CreditStatus,
    cancellation_preview_for,
    credit_left_by,
    makeup_credit_list_visible_to,
    makeup_offers_usable,
    reschedule_offers_for,
)
from enrollment.makeups import lesson_cancel_by_family, lesson_reschedule_by_family, makeup_book
from enrollment.models import MakeupCredit
from scheduling.api import views as scheduling_views
from scheduling.api.serializers import LessonCancelSerializer, LessonSerializer
from scheduling.api.views import lesson_read_serializer

CANCEL = (
    "Cancel a lesson; who cancelled and why are kept. For a parent this is the family's cancellation, exactly as"
    " `POST lessons/{id}/family-cancel/` without a sick pass (with notice or late by the school's notice window; the"
    " credit and the email follow), answered with the lesson. For a teacher and the school, as before."
)
FAMILY_CANCEL = (
    "The family's cancellation (a parent of the child, or the school for them): with notice, or late inside the"
    " notice window (with `use_sick_pass`, one of the term's sick passes, and a credit). Ask `cancellation/` first"
    " to show what it means. Sending it again answers the same cancellation: one credit, one email. Refused: 409"
    " `too_late` (the lesson has started), 409 `no_sick_pass_left`, 400 `status_not_allowed` (already cancelled"
    " otherwise, or marked)."
)
PREVIEW = (
    "What cancelling the lesson now would be, said before the family confirms: the outcome, a make-up credit and"
    " its expiry or why none (inside the notice window, the term's cap reached), the sick passes left, a fee."
    " Refused as the cancellation itself would be: 409 `too_late`, 400 `status_not_allowed`."
)
RESCHEDULE = (
    "Cancel the lesson and book its make-up at one of the times `GET` offers, in one step: both or neither, so no"
    " credit is lost between two requests. Answers the make-up lesson. Refused: 409 `no_credit_earned` (the"
    " cancellation would earn no credit; `message` says why), 409 `makeup_slot_not_offered` (taken meanwhile, too"
    " soon, too far), 409 `credit_not_usable`, 409 `too_late`, 400 `status_not_allowed`."
)
RESCHEDULE_OFFERS = (
    "The make-up times the lesson may be rescheduled to: those the credit its cancellation would earn (or give back,"
    " for a make-up) may book, earliest first. Refused as the reschedule would be: 409 `no_credit_earned`, 409"
    " `too_late`, 400 `status_not_allowed`."
)
BOOK = (
    "Book a make-up lesson with this credit at one of its offered times. Never double-booked: the teacher and the"
    " child are locked as every booking does, and the time is checked against the offers under those locks."
    " Refused: 409 `makeup_slot_not_offered` (taken meanwhile, too soon, too far, another teacher), 409"
    " `credit_not_usable` (used, expired, held until the missed lesson's tuition is paid)."
)


class LessonViewSet(scheduling_views.LessonViewSet):
    """Lessons, scoped by role, with the family's side of them (enrollment's rules for credits)."""

    parent_actions = scheduling_views.LessonViewSet.parent_actions | {
        "cancellation",
        "family_cancel",
        "reschedule",
        "reschedule_offers",
    }

    @extend_schema(request=LessonCancelSerializer, responses={200: LessonSerializer}, description=CANCEL)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        if not is_parent(request.user):
            return super().cancel(request, pk)
        lesson = self.get_object()
        body = LessonCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lesson = lesson_cancel_by_family(lesson=lesson, actor=request.user, reason=body.validated_data["reason"])
        return Response(self._read(lesson))

    @extend_schema(
        parameters=[CancellationQuerySerializer], responses={200: CancellationPreviewSerializer}, description=PREVIEW
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def cancellation(self, request, pk=None):
        lesson = self.get_object()
        query = CancellationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        preview = cancellation_preview_for(lesson=lesson, actor=request.user, **query.validated_data)
        return Response(CancellationPreviewSerializer(preview).data)

    @extend_schema(
        request=FamilyCancelSerializer, responses={200: FamilyCancellationSerializer}, description=FAMILY_CANCEL
    )
    @action(detail=True, methods=["post"], url_path="family-cancel")
    def family_cancel(self, request, pk=None):
        lesson = self.get_object()
        body = FamilyCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lesson = lesson_cancel_by_family(lesson=lesson, actor=request.user, **body.validated_data)
        credit = credit_left_by(lesson=lesson)
        return Response(
            {"lesson": self._read(lesson), "credit": MakeupCreditSerializer(credit).data if credit else None}
        )

    @extend_schema(request=MakeupTimeSerializer, responses={201: LessonSerializer}, description=RESCHEDULE)
    @action(detail=True, methods=["post"], filter_backends=[])  # its GET's query is the offers', not the list's
    def reschedule(self, request, pk=None):
        return idempotent(request, lambda: self._reschedule(request))

    def _reschedule(self, request) -> Response:
        lesson = self.get_object()
        body = MakeupTimeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        makeup = lesson_reschedule_by_family(lesson=lesson, actor=request.user, **body.validated_data)
        return Response(self._read(makeup), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[MakeupOffersQuerySerializer],
        responses={200: MakeupOfferSerializer(many=True)},
        description=RESCHEDULE_OFFERS,
    )
    @reschedule.mapping.get
    def reschedule_offers(self, request, pk=None):
        lesson = self.get_object()
        query = MakeupOffersQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day, teacher_id = query.validated_data["day"], query.validated_data["teacher"]
        offers = reschedule_offers_for(lesson=lesson, actor=request.user, day=day, teacher_id=teacher_id)
        return self.get_paginated_response(MakeupOfferSerializer(self.paginate_queryset(offers), many=True).data)


class MakeupCreditFilter(FilterSet):
    family = IntegerFilter(field_name="enrollment__student__family_id")
    student = IntegerFilter(field_name="enrollment__student_id")
    status = filters.ChoiceFilter(choices=CreditStatus.choices)  # the annotation of credits_with_status

    class Meta:
        model = MakeupCredit
        fields = ["enrollment", "origin"]


class MakeupCreditViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Make-up credits, soonest expiry first, each with its status and ledger: a parent's are their family's, the
    school sees all (filter by `family`, `student`, `enrollment`, `status`); teachers have none (403)."""

    permission_classes = [SchoolAdminParentOrTeacher]
    parent_actions = {"list", "retrieve", "offers", "book"}
    teacher_actions: set[str] = set()
    serializer_class = MakeupCreditSerializer
    filterset_class = MakeupCreditFilter
    ordering_fields = ["expires_on", "created_at"]

    def get_queryset(self):
        return makeup_credit_list_visible_to(self.request.user)

    @extend_schema(
        parameters=[MakeupOffersQuerySerializer],
        responses={200: MakeupOfferSerializer(many=True)},
        description="The make-up times this credit may book, earliest first (the teacher's free time, make-up blocks,"
        " times freed by cancellations), at least the school's make-up notice ahead and within its horizon and the"
        " credit's expiry. 409 `credit_not_usable` when it can book none (used, expired, held until paid).",
    )
    @action(detail=True, methods=["get"], filter_backends=[])  # its query is the offers', not the list's
    def offers(self, request, pk=None):
        credit = self.get_object()
        query = MakeupOffersQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day, teacher_id = query.validated_data["day"], query.validated_data["teacher"]
        page = self.paginate_queryset(makeup_offers_usable(credit=credit, day=day, teacher_id=teacher_id))
        return self.get_paginated_response(MakeupOfferSerializer(page, many=True).data)

    @extend_schema(request=MakeupTimeSerializer, responses={201: LessonSerializer}, description=BOOK)
    @action(detail=True, methods=["post"])
    def book(self, request, pk=None):
        return idempotent(request, lambda: self._book(request))

    def _book(self, request) -> Response:
        credit = self.get_object()
        body = MakeupTimeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lesson = makeup_book(credit=credit, actor=request.user, **body.validated_data)
        return Response(lesson_read_serializer(request.user)(lesson).data, status=status.HTTP_201_CREATED)
