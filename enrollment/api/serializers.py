from rest_framework import serializers

from enrollment.models import Student


class StudentAdminSerializer(serializers.ModelSerializer):
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


class StudentParentSerializer(serializers.ModelSerializer):
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


class StudentTeacherSerializer(serializers.ModelSerializer):
    """What a teacher needs of a student: no family details."""

    class Meta:
        model = Student
        fields = ["id", "first_name", "last_name", "date_of_birth", "instrument", "level", "teacher", "status"]
        read_only_fields = fields
