from cedarheights.api import ModelSerializer
from enrollment.models import Student

STUDENT_FIELDS = [
    "id",
    "family",
    "first_name",
    "last_name",
    "date_of_birth",
    "instrument",
    "level",
    "teacher",
    "status",
]


class StudentAdminSerializer(ModelSerializer):
    class Meta:
        model = Student
        fields = [*STUDENT_FIELDS, "notes", "created_at"]
        read_only_fields = ["id", "created_at"]


class StudentParentSerializer(ModelSerializer):
    """A parent corrects a child's name or birth date; teacher, level, status and family are the school's."""

    class Meta:
        model = Student
        fields = [*STUDENT_FIELDS, "created_at"]
        read_only_fields = [f for f in fields if f not in {"first_name", "last_name", "date_of_birth"}]


class StudentTeacherSerializer(ModelSerializer):
    """What a teacher needs of a student: no family details."""

    class Meta:
        model = Student
        fields = [f for f in STUDENT_FIELDS if f != "family"]
        read_only_fields = fields
