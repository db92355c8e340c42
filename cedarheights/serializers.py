"""The project's serializer bases and fields: a key the caller may not write is refused (never ignored), text is
sent as text and checked before trimming, times carry a sane offset, weekly times are local wall-clock times, and
a model's own validation runs before a write."""

import copy
import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.serializers import as_serializer_error

from cedarheights.filters import check_offset
from cedarheights.model_validation import model_validate


class StrictCharField(serializers.CharField):
    """Text must be sent as text, and its length is checked before surrounding whitespace is trimmed."""

    def run_validation(self, data=serializers.empty):
        if data not in (serializers.empty, None) and not isinstance(data, str):
            self.fail("invalid")
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)


class SaneDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        try:
            return check_offset(super().to_internal_value(value))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class StrictEmailField(StrictCharField, serializers.EmailField):
    pass


LOCAL_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": LOCAL_TIME_PATTERN,
        "example": "16:00",
        "description": "Local wall-clock time in the school's zone, HH:MM[:SS], no offset.",
    }
)
class LocalTimeField(serializers.TimeField):
    """A weekly time is a wall-clock time in the school's zone: an offset would be a lie."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.match(LOCAL_TIME_PATTERN, value):
            raise serializers.ValidationError("Use a local time as HH:MM or HH:MM:SS, without an offset.")
        return super().to_internal_value(value)


READ_ONLY_MESSAGE = "This field cannot be written here."
UNKNOWN_MESSAGE = "There is no such field."


class RefuseUnwritableFields:
    """A key the caller may not write (read-only, unknown, or not theirs by role) is a 400 naming it.

    DRF's `to_internal_value` reads only the writable fields and drops every other key without a word, so a
    parent's `teacher` was answered 200 and ignored. Each role's serializer lists what it may write; this
    makes the rest an error, at every level of a nested body.
    """

    def to_internal_value(self, data):
        refused = self.refused_fields(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as invalid:
            if refused and isinstance(invalid.detail, Mapping):
                raise serializers.ValidationError({**invalid.detail, **refused}) from invalid
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value

    def refused_fields(self, data) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}  # not an object at all: DRF's own error says so
        writable = {name for name, field in self.fields.items() if not field.read_only}
        return {
            name: [READ_ONLY_MESSAGE if name in self.fields else UNKNOWN_MESSAGE]
            for name in data
            if name not in writable
        }


class Serializer(RefuseUnwritableFields, serializers.Serializer):
    """The project's serializer for request bodies."""


class ModelSerializer(RefuseUnwritableFields, serializers.ModelSerializer):
    """The project's model serializer: unwritable fields refused, strict text lengths, local wall-clock times."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.TimeField: LocalTimeField,
        models.DateTimeField: SaneDateTimeField,
    }


class ModelCleanSerializer(ModelSerializer):
    """Runs the model's own validation (clean(), unique and database constraints) before a write.

    DRF skips `Model.full_clean()`; without this, a rule the model states would first be met as a 500.
    """

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        many = {f.name for f in model._meta.many_to_many}
        for name, value in attrs.items():
            if name not in many:
                setattr(candidate, name, value)
        try:
            model_validate(candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError(as_serializer_error(error)) from error
        return attrs
