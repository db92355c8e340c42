"""Viewset bases every app's API builds on."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle

from cedarheights.idempotency import IdempotentCreateMixin
from cedarheights.permissions import ReadOnlyOrSchoolAdmin
from cedarheights.services import audit_page_read, audit_read


class AuditedReadsMixin:
    """Families' and children's records read through the API by staff or a teacher leave an audit event: one for a
    record (its detail, or the record a GET action is about), one for a page of a list (the ids it showed)."""

    def get_object(self):
        record = super().get_object()
        if self.request.method == "GET":
            audit_read(actor=self.request.user, obj=record, request=self.request)
        return record

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        # A list endpoint's page (a plain list view has no `action`); a GET action's page (a credit's offers) is
        # about the record it read, already audited.
        if page is not None and self.request.method == "GET" and getattr(self, "action", "list") == "list":
            audit_page_read(actor=self.request.user, model=queryset.model, shown=page, request=self.request)
        return page


class CreateRetrieveUpdateListViewSet(
    AuditedReadsMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Records that are kept, not deleted (families, students): create idempotently, read (audited), update, list."""


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


# Writes go through the services each viewset names (`services`); the docstring is the endpoints' description.
class ReferenceViewSet(ServiceWritesMixin, IdempotentCreateMixin, viewsets.ModelViewSet):
    """School reference data: everyone signed in reads it, the school's admins write it."""

    permission_classes = [ReadOnlyOrSchoolAdmin]


# The docstring is the description of the public endpoints that have none (the schema's). An answer carries an `ETag`
# (a hash of its body: the same for everyone, as nobody is signed in here) and `If-None-Match` with it is a `304`
# without a body; `cache_control` says how long a browser or proxy may keep it without asking again.
class PublicApi:
    """No sign-in, rate-limited per address."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"
    cache_control = {"public": True, "max_age": 60}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != status.HTTP_200_OK:
            return response
        set_response_etag(response.render())
        patch_cache_control(response, **self.cache_control)
        return get_conditional_response(request, etag=response["ETag"], response=response)
