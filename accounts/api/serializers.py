from rest_framework import serializers

from accounts.models import Family, ReminderPreference, User
from accounts.services import FAMILY_FIELDS
from cedarheights.serializers import ModelSerializer, Serializer, StrictCharField, StrictEmailField


class LoginSerializer(Serializer):
    email = StrictEmailField(max_length=254)
    password = StrictCharField(max_length=128, trim_whitespace=False)


class MeSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "phone", "role", "family"]
        read_only_fields = ["id", "email", "role", "family"]


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text="Shown once: only its digest is kept.")
    expiry = serializers.DateTimeField(read_only=True, help_text="Extended by each use, up to a maximum age.")
    user = MeSerializer(read_only=True)


class PasswordChangeSerializer(Serializer):
    old_password = StrictCharField(max_length=128, trim_whitespace=False)
    new_password = StrictCharField(max_length=128, trim_whitespace=False)


class PasswordResetSerializer(Serializer):
    email = StrictEmailField(max_length=254)


class PasswordResetConfirmSerializer(Serializer):
    uid = StrictCharField(max_length=64)
    token = StrictCharField(max_length=128)
    new_password = StrictCharField(max_length=128, trim_whitespace=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ParentSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "phone"]
        read_only_fields = fields


class FamilySerializer(ModelSerializer):
    """What a parent sees and edits of their own family."""

    parents = ParentSerializer(many=True, read_only=True)

    class Meta:
        model = Family
        fields = ["id", *(f for f in FAMILY_FIELDS if f != "notes"), "parents", "created_at"]
        read_only_fields = ["id", "parents", "created_at"]


class FamilyAdminSerializer(FamilySerializer):
    """The school's view adds its internal notes."""

    class Meta(FamilySerializer.Meta):
        fields = [*FamilySerializer.Meta.fields, "notes"]


class ReminderPreferenceSerializer(serializers.Serializer):
    """One kind of reminder email you get, on unless you turned it off."""

    kind = serializers.ChoiceField(choices=ReminderPreference.Kind.choices, read_only=True)
    label = serializers.CharField(read_only=True)
    enabled = serializers.BooleanField(read_only=True)
    changed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When you last turned it on or off; null: never (so it is on)."
    )


class ReminderPreferenceUpdateSerializer(Serializer):
    enabled = serializers.BooleanField(help_text="`false` turns this reminder email off; `true` on again.")
