"""The owner's make-up credit actions in the API (`/api/v1/credit-actions/`): what each takes, and the credit it
answers with. The family's own credit endpoints (`/api/v1/makeup-credits/`) are the portal's."""

from rest_framework import serializers

from cedarheights.serializers import ModelSerializer, Serializer, StrictCharField
from cedarheights.validators import no_control_characters
from enrollment.models import Enrollment, MakeupCredit


def _reason() -> StrictCharField:
    return StrictCharField(
        max_length=200, validators=[no_control_characters], help_text="Kept in the credit's ledger (audited)."
    )


class OwnerCreditSerializer(ModelSerializer):
    family = serializers.IntegerField(source="enrollment.student.family_id", read_only=True)
    balance = serializers.IntegerField(read_only=True, help_text="1: unused; 0: used, expired or voided.")

    class Meta:
        model = MakeupCredit
        fields = [
            "id",
            "enrollment",
            "family",
            "instrument",
            "lesson_minutes",
            "origin",
            "counts_toward_cap",
            "missed_lesson",
            "expires_on",
            "held_until_paid",
            "balance",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class CreditExtendSerializer(Serializer):
    credit = serializers.PrimaryKeyRelatedField(queryset=MakeupCredit.objects.all())
    expires_on = serializers.DateField(help_text="The new last day to book a make-up with it; later than today's.")
    reason = _reason()


class CreditVoidSerializer(Serializer):
    credit = serializers.PrimaryKeyRelatedField(queryset=MakeupCredit.objects.all())
    reason = _reason()


class CreditGrantSerializer(Serializer):
    enrollment = serializers.PrimaryKeyRelatedField(
        # Enrollments that got a place: a waitlisted or pending one has no lessons to make up.
        queryset=Enrollment.objects.exclude(status__in=[Enrollment.Status.PENDING, Enrollment.Status.WAITLISTED])
    )
    goodwill = serializers.BooleanField(
        default=False, help_text="A goodwill credit does not count toward the term's limit."
    )
    lesson_minutes = serializers.ChoiceField(
        choices=Enrollment.LessonMinutes.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="The make-up's length; the enrollment's own when empty.",
    )
    reason = _reason()
