from django.contrib.auth import authenticate, login, logout
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from knox.models import AuthToken
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    DetailSerializer,
    FamilyAdminSerializer,
    FamilySerializer,
    LoginSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ReminderPreferenceSerializer,
    ReminderPreferenceUpdateSerializer,
    TokenSerializer,
)
from accounts.models import ReminderPreference
from accounts.selectors import family_list_visible_to, reminder_kinds_for, reminder_preferences_of
from accounts.services import (
    FAMILY_FIELDS,
    family_create,
    family_update,
    password_change,
    password_reset_confirm,
    password_reset_request,
    reminder_preferences_set,
    token_issue,
    token_revoke,
    tokens_revoke_all,
    user_update_profile,
)
from cedarheights.errors import InvalidInput
from cedarheights.permissions import SchoolAdminOrParent
from cedarheights.roles import is_school_admin
from cedarheights.viewsets import CreateRetrieveUpdateListViewSet

BAD_CREDENTIALS = "That email and password do not match an account."


def _authenticate(request, data) -> object:
    """A locked-out sign-in is answered by django-axes' middleware (accounts.views.locked_out), 429."""
    user = authenticate(request._request, username=data["email"].strip().lower(), password=data["password"])
    if user is None:
        raise InvalidInput(BAD_CREDENTIALS, code="invalid_credentials")
    return user


class AuthThrottled:
    throttle_scope = "auth"

    def get_throttles(self):
        from rest_framework.throttling import ScopedRateThrottle

        return [ScopedRateThrottle()]


@method_decorator(csrf_protect, name="dispatch")
class SessionLoginApi(AuthThrottled, APIView):
    """Sign in with a session cookie (for a same-origin app). Send the CSRF token from `GET /api/v1/auth/csrf/`."""

    permission_classes = [AllowAny]

    @extend_schema(request=LoginSerializer, responses={200: MeSerializer}, tags=["auth"])
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _authenticate(request, serializer.validated_data)
        login(request._request, user)  # a new session id: no fixation
        return Response(MeSerializer(user).data)


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfApi(APIView):
    """Sets the CSRF cookie a same-origin app sends back as `X-CSRFToken`."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: DetailSerializer}, tags=["auth"])
    def get(self, request):
        return Response({"detail": "CSRF cookie set."})


class SessionLogoutApi(APIView):
    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request):
        logout(request._request)  # the session is flushed on the server
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenApi(AuthThrottled, APIView):
    """A token for clients other than a browser: `Authorization: Token <key>`. The key is shown once (only its
    digest is stored); it expires after `API_TOKEN_TTL_HOURS` unused (each use extends it, up to
    `API_TOKEN_MAX_TTL_DAYS` from its making). `DELETE` revokes the token sent."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(request=LoginSerializer, responses={201: TokenSerializer}, tags=["auth"])
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = _authenticate(request, serializer.validated_data)
        token, key = token_issue(user=user)
        body = {"token": key, "expiry": token.expiry, "user": user}
        return Response(TokenSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None}, tags=["auth"])
    def delete(self, request):
        if not isinstance(request.auth, AuthToken):
            raise InvalidInput("Send the token to revoke in the Authorization header.", code="no_token")
        token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokensRevokeApi(APIView):
    """Sign out every API client: all of the user's tokens stop working (the browser session stays)."""

    @extend_schema(responses={204: None}, tags=["auth"])
    def delete(self, request):
        tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses={200: MeSerializer}, tags=["auth"])
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeSerializer, responses={200: MeSerializer}, tags=["auth"])
    def patch(self, request):
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_update_profile(user=request.user, **serializer.validated_data)
        return Response(MeSerializer(user).data)


class PasswordChangeApi(APIView):
    """Change the password; every other session and token stops working."""

    @extend_schema(request=PasswordChangeSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_change(request=request, user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetApi(AuthThrottled, APIView):
    """Email a single-use link. The answer is the same whether or not the address has an account."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=PasswordResetSerializer, responses={202: DetailSerializer}, tags=["auth"])
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_request(request=request._request, email=serializer.validated_data["email"])
        return Response({"detail": "If that address has an account, a link is on its way."}, status=202)


class PasswordResetConfirmApi(AuthThrottled, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


# The school also writes its internal notes; a parent may not.
FAMILY_WRITE = extend_schema(
    request=FamilyAdminSerializer,
    responses=FamilySerializer,
    description="A parent may write every field but `notes` of their own family; `notes` from a parent is a 400.",
)


@extend_schema_view(create=FAMILY_WRITE, update=FAMILY_WRITE, partial_update=FAMILY_WRITE)
class FamilyViewSet(CreateRetrieveUpdateListViewSet):
    """Families: the school sees all; a parent sees and edits only their own; teachers none."""

    permission_classes = [SchoolAdminOrParent]
    filterset_fields = ["city", "province"]
    search_fields = ["name", "parents__email"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return family_list_visible_to(self.request.user)

    def get_serializer_class(self):
        return FamilyAdminSerializer if is_school_admin(self.request.user) else FamilySerializer

    def perform_create(self, serializer):
        serializer.instance = family_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k in FAMILY_FIELDS}
        serializer.instance = family_update(actor=self.request.user, family=serializer.instance, **fields)


REMINDERS_DESCRIPTION = (
    "Your reminder emails: the kinds your role gets (a parent `lessons_tomorrow` and `cancel_window`, a teacher "
    "`teaching_tomorrow`, the school's staff none), each on unless you turned it off, and when you last chose. Notices "
    "of a change less than 48 hours before a lesson are not reminders: they always go."
)


@extend_schema(tags=["reminders"], description=REMINDERS_DESCRIPTION)
class ReminderPreferenceListApi(ListAPIView):
    serializer_class = ReminderPreferenceSerializer
    filter_backends = []

    def get_queryset(self):
        return reminder_preferences_of(self.request.user)


class ReminderPreferenceUpdateApi(APIView):
    @extend_schema(
        tags=["reminders"],
        description="Turn one of your reminder emails on or off (the time of your choice is recorded; without "
        "`enabled` nothing changes). A kind your role does not get, or that does not exist, is a 404.",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=ReminderPreference.Kind.values)
        ],
        request=ReminderPreferenceUpdateSerializer,
        responses={200: ReminderPreferenceSerializer},
    )
    def patch(self, request, kind: str):
        if kind not in reminder_kinds_for(request.user):
            raise NotFound("You get no reminder email of this kind.")
        serializer = ReminderPreferenceUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        chosen = {kind: serializer.validated_data["enabled"]} if "enabled" in serializer.validated_data else {}
        choices = reminder_preferences_set(user=request.user, choices=chosen, actor=request.user)
        return Response(ReminderPreferenceSerializer(next(c for c in choices if c.kind == kind)).data)
