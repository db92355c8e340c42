"""Viewsets that write through the services of the app that owns the table, never `serializer.save()`."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model


@dataclass(frozen=True)
class WriteServices:
    """The services a viewset writes through; `record` is the keyword their update and delete take the record by
    (`instrument_update(instrument=…, **fields)`, `instrument_delete(instrument=…)`)."""

    record: str
    create: Callable[..., Model]
    update: Callable[..., Model]
    delete: Callable[..., None]


# perform_create, perform_update and perform_destroy call the viewset's `services` with what the serializer validated.
# (A comment: drf-spectacular would describe every endpoint of the viewsets with a docstring here.)
class ServiceWritesMixin:
    services: WriteServices

    def perform_create(self, serializer):
        serializer.instance = self.services.create(**serializer.validated_data)

    def perform_update(self, serializer):
        record = {self.services.record: serializer.instance}
        serializer.instance = self.services.update(**record, **serializer.validated_data)

    def perform_destroy(self, instance):
        self.services.delete(**{self.services.record: instance})
