"""The owner's make-up credit actions (`/api/v1/credit-actions/`): extend, void, give. School admins only; each
calls one service of enrollment/credits.py and answers with the credit and its balance."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cedarheights.idempotency import idempotent
from cedarheights.permissions import IsSchoolAdmin
from enrollment.api.credit_serializers import (
    CreditExtendSerializer,
    CreditGrantSerializer,
    CreditVoidSerializer,
    OwnerCreditSerializer,
)
from enrollment.credits import credits_with_balance, makeup_credit_extend, makeup_credit_grant, makeup_credit_void
from enrollment.models import MakeupCredit


def _answer(credit: MakeupCredit, code: int = status.HTTP_200_OK) -> Response:
    shown = credits_with_balance().select_related("enrollment__student").get(pk=credit.pk)
    return Response(OwnerCreditSerializer(shown).data, status=code)


class CreditActionViewSet(viewsets.GenericViewSet):
    """The owner's actions on families' make-up credits."""

    permission_classes = [IsSchoolAdmin]
    serializer_class = OwnerCreditSerializer

    def _validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=CreditExtendSerializer, responses={200: OwnerCreditSerializer})
    @action(detail=False, methods=["post"])
    def extend(self, request):
        """Move an unused credit's expiry later, with a reason (a line of its ledger, audited)."""
        return _answer(makeup_credit_extend(actor=request.user, **self._validated(CreditExtendSerializer)))

    @extend_schema(request=CreditVoidSerializer, responses={200: OwnerCreditSerializer})
    @action(detail=False, methods=["post"])
    def void(self, request):
        """Take an unused credit back (a mistake), with a reason."""
        return _answer(makeup_credit_void(actor=request.user, **self._validated(CreditVoidSerializer)))

    @extend_schema(request=CreditGrantSerializer, responses={201: OwnerCreditSerializer})
    @action(detail=False, methods=["post"])
    def grant(self, request):
        """Give a credit to an enrollment: it counts toward the term's limit unless `goodwill`. With an
        `Idempotency-Key`, a repeated request gives it once."""
        return idempotent(request, lambda: self._grant(request))

    def _grant(self, request) -> Response:
        credit = makeup_credit_grant(actor=request.user, **self._validated(CreditGrantSerializer))
        return _answer(credit, status.HTTP_201_CREATED)
