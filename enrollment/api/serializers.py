from cedarheights.api import ModelSerializer
from enrollment.models import Student


class StudentAdminSerializer(ModelSerializer):
    class Meta:
        model = Student
        fields = [
            "id",
            "family",
            "first_name",
            "last_name",
            "date_of_birth",
            "instrument",
            "level",
            "teacher",
            "status",
            "notes",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class StudentParentSerializer(ModelSerializer):
    """A parent corrects a child's name or birth date; teacher, level, status and family are the school's."""

    class Meta:
        model = Student
        fields = [
            "id",
            "family",
            "first_name",
            "last_name",
            "date_of_birth",
            "instrument",
            "level",
            "teacher",
            "status",
            "created_at",
        ]
        read_only_fields = ["id", "family", "instrument", "level", "teacher", "status", "created_at"]


class StudentTeacherSerializer(ModelSerializer):
    """What a teacher needs of a student: no family details."""

    class Meta:
        model = Student
        fields = ["id", "first_name", "last_name", "date_of_birth", "instrument", "level", "teacher", "status"]
        read_only_fields = fields
