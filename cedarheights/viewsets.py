"""Viewset bases every app's API builds on."""

from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle

from cedarheights.idempotency import IdempotentCreateMixin
from cedarheights.permissions import ReadOnlyOrSchoolAdmin


class CreateRetrieveUpdateListViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Records that are kept, not deleted (families, students): create idempotently, read, update, list."""


class ReferenceViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """School reference data: everyone signed in reads it, the school's admins write it."""

    permission_classes = [ReadOnlyOrSchoolAdmin]


class PublicApi:
    """No sign-in, rate-limited per address."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"
