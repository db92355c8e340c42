from accounts.permissions import SchoolAdminParentOrTeacher
from accounts.roles import is_parent, is_school_admin
from cedarheights.viewsets import CreateRetrieveUpdateListViewSet
from enrollment.api.serializers import StudentAdminSerializer, StudentParentSerializer, StudentTeacherSerializer
from enrollment.selectors import student_list_visible_to
from enrollment.services import student_create, student_update


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
