"""Viewset bases (apart from cedarheights.api, which DRF's settings import before any viewset exists)."""

from rest_framework import mixins, viewsets

from cedarheights.api import IdempotentCreateMixin


class CreateRetrieveUpdateListViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Records that are kept, not deleted (families, students): create idempotently, read, update, list."""
