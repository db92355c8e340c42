from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from cedarheights.idempotency import idempotent_durable
from cedarheights.permissions import SchoolAdminParentOrTeacher
from cedarheights.roles import is_parent, is_school_admin
from cedarheights.viewsets import CreateRetrieveUpdateListViewSet, PublicApi, ReferenceViewSet, WriteServices
from enrollment.api.serializers import (
    CHECK_YOUR_EMAIL,
    EnrollmentCreateSerializer,
    EnrollmentReceivedSerializer,
    EnrollmentResultSerializer,
    PublicPlanSerializer,
    StudentAdminSerializer,
    StudentParentSerializer,
    StudentTeacherSerializer,
    TuitionPlanSerializer,
)
from enrollment.inputs import ChildInput, EnrollmentInput, windows_from_cleaned
from enrollment.models import Enrollment, TuitionPlan
from enrollment.pipelines import enrollment_submit
from enrollment.selectors import student_list_visible_to, tuition_plans_offered
from enrollment.services import tuition_plan_create, tuition_plan_delete, tuition_plan_update
from enrollment.throttles import EnrollmentThrottle
from scheduling.services import student_create, student_update

# The school writes every field; a parent only their own child's name and birth date.
STUDENT_WRITE = extend_schema(
    request=StudentAdminSerializer,
    description="A parent may write only `first_name`, `last_name` and `date_of_birth`; any other field is a 400.",
)


@extend_schema_view(create=STUDENT_WRITE, update=STUDENT_WRITE, partial_update=STUDENT_WRITE)
class StudentViewSet(CreateRetrieveUpdateListViewSet):
    """Students, scoped by role: another family's child is a 404, never in a list."""

    permission_classes = [SchoolAdminParentOrTeacher]
    parent_actions = {"list", "retrieve", "update", "partial_update"}
    teacher_actions = {"list", "retrieve"}
    filterset_fields = ["family", "instrument", "teacher", "status", "level"]
    search_fields = ["first_name", "last_name"]
    ordering_fields = ["last_name", "first_name", "date_of_birth", "created_at"]

    def get_queryset(self):
        return student_list_visible_to(self.request.user)

    def get_serializer_class(self):
        if is_school_admin(self.request.user):
            return StudentAdminSerializer
        return StudentParentSerializer if is_parent(self.request.user) else StudentTeacherSerializer

    def perform_create(self, serializer):
        serializer.instance = student_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = student_update(
            actor=self.request.user, student=serializer.instance, **serializer.validated_data
        )


class EnrollmentCreateApi(APIView):
    """Enroll one or more children.

    A signed-in parent enrolls into their own family and gets the enrollments (201). Anyone else gets the same
    202 "check your email" whether the address is new (the family, its booking and a confirmation link are
    emailed) or already has an account (its owner is emailed how to enroll from it), so the answer never tells
    whether an address has an account. Send an `Idempotency-Key` header: the same request from the same caller
    replays the first answer; the same key with another body is a 400 `idempotency_key_reused`.
    """

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle, EnrollmentThrottle]
    throttle_scope = "public"

    @extend_schema(
        request=EnrollmentCreateSerializer,
        responses={201: EnrollmentResultSerializer(many=True), 202: EnrollmentReceivedSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Any unique string per submission, e.g. a UUID.",
            )
        ],
    )
    def post(self, request):
        return idempotent_durable(request, lambda key: self._enroll(request, key))

    def _enroll(self, request, key) -> Response:
        serializer = EnrollmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        form = EnrollmentInput(
            children=[ChildInput.from_cleaned(c) for c in data["children"]],
            windows=windows_from_cleaned(data["windows"]),
            tuition_plan_id=data["tuition_plan"].pk,
            consent=data["consent"],
            notice_version=data["notice_version"],
            marketing=data["marketing"],
            payment_method_id=data["payment_method_id"],
            parent_first_name=data["parent_first_name"],
            parent_last_name=data["parent_last_name"],
            email=data["email"],
            phone=data["phone"],
            source=Enrollment.Source.API,
        )
        signed_in = is_parent(request.user)
        enrollments = enrollment_submit(
            form=form,
            idempotency_key=key,
            user=request.user if request.user.is_authenticated else None,
            site_url=request.build_absolute_uri("/").rstrip("/"),
        )
        if not signed_in:
            return Response(
                EnrollmentReceivedSerializer({"message": CHECK_YOUR_EMAIL}).data, status=status.HTTP_202_ACCEPTED
            )
        return Response(EnrollmentResultSerializer(enrollments, many=True).data, status=status.HTTP_201_CREATED)


class TuitionPlanViewSet(ReferenceViewSet):
    queryset = TuitionPlan.objects.order_by("name")
    serializer_class = TuitionPlanSerializer
    filterset_fields = ["active", "instrument", "interval", "lesson_minutes"]
    search_fields = ["name"]
    ordering_fields = ["name", "price_cents"]

    services = WriteServices("plan", tuition_plan_create, tuition_plan_update, tuition_plan_delete)


class PublicPricingApi(PublicApi, generics.ListAPIView):
    """The tuition plans on offer."""

    serializer_class = PublicPlanSerializer
    queryset = tuition_plans_offered().select_related("instrument").order_by("price_cents", "name")
    filterset_fields = ["instrument", "interval", "lesson_minutes"]
    ordering_fields = ["price_cents", "name"]
