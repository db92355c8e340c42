"""A person's calendar links through the API (`/api/v1/calendar-feeds/`): list or read their live ones, make (or
replace) one, turn one off. The rules are scheduling.calendar_feeds'; everyone's links are in the owner's admin."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from cedarheights.serializers import ModelSerializer, Serializer
from scheduling.calendar_feeds import (
    calendar_feed_issue,
    calendar_feed_revoke,
    calendar_feeds_of,
    calendar_scopes_of,
    feed_url,
)
from scheduling.models import CalendarFeed


class HoldsCalendars(BasePermission):
    """A parent (their family's link), a teacher (their own) or the school's admin (the whole school's)."""

    def has_permission(self, request, view):
        return bool(calendar_scopes_of(request.user))


class CalendarFeedSerializer(ModelSerializer):
    """A calendar link of the caller's, without its secret."""

    class Meta:
        model = CalendarFeed
        fields = ["id", "scope", "created_at"]
        read_only_fields = fields


class CalendarFeedIssueSerializer(Serializer):
    """Which of the caller's calendar links to make."""

    scope = serializers.ChoiceField(
        choices=CalendarFeed.Scope.choices,
        help_text="`family` (a parent: all their children's lessons), `teacher` (a teacher: their own) or `school` "
        "(the school's admin: every lesson).",
    )


class CalendarFeedIssuedSerializer(CalendarFeedSerializer):
    """A link just made, with its address: the only answer that shows it."""

    url = serializers.CharField(help_text="The link to subscribe to, shown only in this answer.")
    webcal_url = serializers.CharField(help_text="The same link as `webcal://`: it opens a calendar app in one tap.")

    class Meta(CalendarFeedSerializer.Meta):
        fields = [*CalendarFeedSerializer.Meta.fields, "url", "webcal_url"]
        read_only_fields = fields


class CalendarFeedViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The caller's own calendar links (`/cal/<token>.ics`), live ones only, newest first, never with their secret:
    it is in the answer to the `POST` that makes a link, and nowhere after (only its hash is kept). Each person has
    at most one live link per `scope`; deleting one turns it off at once (its address answers 404). The school's
    admin sees only their own here: everyone's are in the admin."""

    permission_classes = [HoldsCalendars]
    serializer_class = CalendarFeedSerializer
    filter_backends = []

    def get_queryset(self):
        if not self.request.user.is_authenticated:  # the schema is drawn without a caller
            return CalendarFeed.objects.none()
        return calendar_feeds_of(self.request.user)

    @extend_schema(
        request=CalendarFeedIssueSerializer,
        responses={201: CalendarFeedIssuedSerializer},
        description="Make the caller's calendar link of this `scope`, replacing the live one if any (which stops "
        "working at once). `url` and `webcal_url` are shown in this answer only. An `Idempotency-Key` is not "
        "replayed here (that would keep the secret): sending the request again makes another link. A scope the "
        "caller cannot hold is a 400 naming `scope`.",
    )
    def create(self, request):
        given = CalendarFeedIssueSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        feed, token = calendar_feed_issue(holder=request.user, scope=given.validated_data["scope"], actor=request.user)
        issued = {
            "id": feed.pk,
            "scope": feed.scope,
            "created_at": feed.created_at,
            "url": feed_url(token),
            "webcal_url": feed_url(token, webcal=True),
        }
        return Response(CalendarFeedIssuedSerializer(issued).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        calendar_feed_revoke(feed=instance, actor=self.request.user)
