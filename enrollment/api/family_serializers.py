"""The family's API bodies: a cancellation's preview and request, make-up credits with their ledger, make-up offers,
and a make-up time asked for."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cedarheights.money import default_currency, format_cents
from cedarheights.serializers import SaneDateTimeField, Serializer, StrictCharField
from cedarheights.validators import no_control_characters
from enrollment.family_selectors import CreditStatus
from enrollment.models import MakeupCredit, MakeupCreditEntry
from scheduling.api.serializers import LessonSerializer, PersonRefSerializer
from scheduling.models import Teacher
from scheduling.outcomes import Outcome


class FeeQuoteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    amount_cents = serializers.IntegerField()
    amount_display = serializers.SerializerMethodField()
    waived_because = serializers.CharField(help_text='Why it is waived (the first late cancellation of a term); "".')

    def get_amount_display(self, fee) -> str:
        return format_cents(fee.amount_cents, default_currency())


class CancellationPreviewSerializer(serializers.Serializer):
    """What cancelling the lesson now would be, said before the family confirms."""

    outcome = serializers.ChoiceField(choices=Outcome.choices)
    outcome_label = serializers.CharField()
    late = serializers.BooleanField(help_text="Inside the school's notice window.")
    earns_credit = serializers.BooleanField(help_text="A make-up credit comes with it (for a make-up: comes back).")
    why_no_credit = serializers.CharField(help_text='Why no credit comes with it; "" when one does.')
    credit_expires_on = serializers.DateField(allow_null=True)
    sick_passes_left = serializers.IntegerField(help_text="Sick passes the child has left this term.")
    fee = FeeQuoteSerializer(allow_null=True, help_text="The fee it would carry (per-lesson plans, fees on).")


class CancellationQuerySerializer(serializers.Serializer):
    use_sick_pass = serializers.BooleanField(default=False, help_text="Preview a late cancellation with a sick pass.")


class FamilyCancelSerializer(Serializer):
    use_sick_pass = serializers.BooleanField(
        default=False, help_text="Inside the notice window: use one of the term's sick passes (a credit comes)."
    )
    reason = StrictCharField(
        max_length=200, required=False, allow_blank=True, default="", validators=[no_control_characters]
    )


class MakeupCreditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = MakeupCreditEntry
        fields = ["sequence", "kind", "change", "balance_after", "lesson", "expires_on", "reason", "created_at"]
        read_only_fields = fields


class MakeupCreditSerializer(serializers.ModelSerializer):
    student = serializers.SerializerMethodField()
    instrument = serializers.SerializerMethodField()
    origin_label = serializers.CharField(source="get_origin_display", read_only=True)
    status = serializers.ChoiceField(
        choices=CreditStatus.choices,
        read_only=True,
        help_text="available or held (balance 1, not past its expiry); used, expired, revoked otherwise.",
    )
    balance = serializers.IntegerField(read_only=True, help_text="1 while it can pay for a make-up; 0 once used.")
    entries = MakeupCreditEntrySerializer(many=True, read_only=True, help_text="Its ledger, oldest first.")

    class Meta:
        model = MakeupCredit
        fields = [
            "id",
            "enrollment",
            "student",
            "instrument",
            "lesson_minutes",
            "origin",
            "origin_label",
            "counts_toward_cap",
            "missed_lesson",
            "term",
            "expires_on",
            "held_until_paid",
            "reason",
            "status",
            "balance",
            "created_at",
            "entries",
        ]
        read_only_fields = fields

    @extend_schema_field(PersonRefSerializer)
    def get_student(self, credit: MakeupCredit) -> dict:
        student = credit.enrollment.student
        return {"id": student.pk, "name": str(student)}

    @extend_schema_field(PersonRefSerializer)
    def get_instrument(self, credit: MakeupCredit) -> dict:
        return {"id": credit.instrument_id, "name": credit.instrument.name}


class FamilyCancellationSerializer(serializers.Serializer):
    """A family's cancellation done: the lesson, and the credit it earned (or gave back), if any."""

    lesson = LessonSerializer()
    credit = MakeupCreditSerializer(allow_null=True)


class MakeupOfferSerializer(serializers.Serializer):
    start_at = serializers.DateTimeField(help_text="Local time of the school, with its UTC offset.")
    end_at = serializers.DateTimeField()
    teacher = PersonRefSerializer()
    source = serializers.CharField(help_text="The teacher's free time, a make-up block, or freed by a cancellation.")

    def to_representation(self, offer) -> dict:
        return {
            "start_at": serializers.DateTimeField().to_representation(offer.start_at),
            "end_at": serializers.DateTimeField().to_representation(offer.end_at),
            "teacher": {"id": offer.teacher.pk, "name": offer.teacher.user.get_full_name()},
            "source": offer.source,
        }


class MakeupOffersQuerySerializer(serializers.Serializer):
    day = serializers.DateField(required=False, allow_null=True, default=None, help_text="One local day only.")
    teacher = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**31 - 1, help_text="A teacher id."
    )


class MakeupTimeSerializer(Serializer):
    """An offered make-up time (`offers`): its teacher and start, as offered."""

    teacher = serializers.PrimaryKeyRelatedField(queryset=Teacher.objects.filter(active=True))
    start_at = SaneDateTimeField()
