"""``/api/v1/page-webhooks/``: signed outgoing page webhooks of people and teams (``notifications.page_webhooks``);
``/api/v1/me/contact-rules/`` and ``/api/v1/me/test-page/``: how pages reach you (``notifications.contact``).

A person sees their own webhook and their teams' (staff: every one). Creating one answers its signing secret
once (``secret``); ``POST {id}/rotate/`` answers a new one (the old keeps signing for the grace period). The
signature scheme is ``notifications.signing``'s.
"""

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ownership.models import Membership, Team, User
from ownership.permissions import is_staff
from sredesk.api import filters as f
from sredesk.api.errors import ErrorSerializer
from sredesk.api.fields import RefField, StrictInputSerializer
from sredesk.api.viewsets import BaseViewSet

from .contact import MAX_DELAY_MINUTES, contact_rules_count_check, contact_rules_set, page_channels, page_test_send
from .models import ContactRule, Notification, PageWebhook
from .page_webhooks import (
    page_webhook_delete,
    page_webhook_deliveries,
    page_webhook_rotate,
    page_webhook_set,
    page_webhooks_deliveries,
    secret_answer,
)


class DeliverySerializer(serializers.ModelSerializer):
    """One delivery to the webhook: ``failed`` with ``last_error`` is a permanent refusal (a 4xx) or retries used up."""

    class Meta:
        model = Notification
        fields = ["id", "topic", "status", "attempts", "created_at", "sent_at", "last_error"]


class PageWebhookListSerializer(serializers.ListSerializer):
    """Many page webhooks: their latest deliveries are read in one query for all (``page_webhooks_deliveries``),
    not one per webhook."""

    def to_representation(self, data):
        hooks = list(data.all() if hasattr(data, "all") else data)
        self.deliveries = page_webhooks_deliveries(hooks)
        return super().to_representation(hooks)


class PageWebhookSerializer(serializers.ModelSerializer):
    """A page webhook: its owner (``user`` username or ``team`` slug), URL, dates and latest deliveries."""

    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    signing = serializers.SerializerMethodField()
    deliveries = serializers.SerializerMethodField()

    class Meta:
        model = PageWebhook
        fields = ["id", "user", "team", "url", "created_at", "rotated_at", "previous_valid_until", "signing",
                  "deliveries"]  # fmt: skip
        list_serializer_class = PageWebhookListSerializer

    def get_signing(self, hook) -> str:
        return "X-Sredesk-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '<t>.' + raw body>"

    @extend_schema_field(DeliverySerializer(many=True))
    def get_deliveries(self, hook) -> list[dict]:
        listed = getattr(self.parent, "deliveries", None)  # read for the whole list at once
        rows = listed[hook.pk] if listed is not None else page_webhook_deliveries(hook)
        return DeliverySerializer(rows, many=True).data


class CreatedSerializer(PageWebhookSerializer):
    secret = serializers.CharField(help_text="The signing secret: shown this once.")

    class Meta(PageWebhookSerializer.Meta):
        fields = [*PageWebhookSerializer.Meta.fields, "secret"]


class PageWebhookInput(StrictInputSerializer):
    """``url`` (https://); ``team`` (id or slug) for a team's webhook, else the caller's own."""

    url = serializers.CharField(trim_whitespace=False, help_text="https:// URL; http:// only to loopback in dev.")
    team = RefField("slug", queryset=Team.objects.all(), required=False, help_text="The team (id or slug).")


class PageWebhookUpdateInput(StrictInputSerializer):
    url = serializers.CharField(trim_whitespace=False)


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret: shown this once.")


class PageWebhookFilter(django_filters.FilterSet):
    user = f.ref("user", User, "username", "This person's webhook (id or username).")
    team = f.ref("team", Team, "slug", "This team's webhook (id or slug).")

    class Meta:
        model = PageWebhook
        fields: list[str] = []


class PageWebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Your page webhook and your teams' (staff: all): JSON POSTs signed with HMAC-SHA256 (see ``signing``)."""

    serializer_class = PageWebhookSerializer
    filterset_class = PageWebhookFilter
    ordering_fields = ("created_at", "id")
    ordering = ("id",)
    schema_tags = ["people"]

    def get_queryset(self):
        rows = PageWebhook.objects.select_related("user", "team")
        user = self.request.user
        if is_staff(user):
            return rows
        teams = Membership.objects.filter(user_id=user.pk).values("team_id")
        return rows.filter(Q(user_id=user.pk) | Q(team__in=teams))

    @extend_schema(request=PageWebhookInput, responses={201: CreatedSerializer, 200: PageWebhookSerializer})
    def create(self, request):
        """Give yourself (or ``team``) a page webhook: 201 with its ``secret``, shown once; when one exists, its
        URL moves (200, no secret: the secret stays). 400 names a URL pages may not go to."""
        data = PageWebhookInput(data=request.data)
        data.is_valid(raise_exception=True)
        team = data.validated_data.get("team")
        hook, secret = page_webhook_set(
            actor=request.user, url=data.validated_data["url"], user=None if team else request.user, team=team
        )
        if secret is None:
            return Response(PageWebhookSerializer(hook).data)
        return secret_answer(Response(dict(PageWebhookSerializer(hook).data, secret=secret), status=201))

    @extend_schema(request=PageWebhookUpdateInput, responses=PageWebhookSerializer)
    def partial_update(self, request, pk=None):
        """Move the webhook to another URL (checked as on creation); the secret stays."""
        hook = self.get_object()
        data = PageWebhookUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        hook, _ = page_webhook_set(actor=request.user, url=data.validated_data["url"], user=hook.user, team=hook.team)
        return Response(PageWebhookSerializer(hook).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Remove the webhook: pages stop going there."""
        page_webhook_delete(actor=request.user, webhook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=SecretSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """A new signing secret, shown once; the old one keeps signing beside it for the grace period."""
        return secret_answer(Response({"secret": page_webhook_rotate(actor=request.user, webhook=self.get_object())}))


class RouteSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="outbox, slack, email or webhook.")
    address = serializers.CharField(help_text="Outbox name, Slack member id, email address or webhook:<id>.")
    delay_minutes = serializers.IntegerField(help_text="Minutes after the page.")


class ContactRuleSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactRule.PageChannel.choices)
    delay_minutes = serializers.IntegerField(min_value=0, max_value=MAX_DELAY_MINUTES)


class ContactRulesSerializer(serializers.Serializer):
    """Your rules, and what they mean now: ``routes`` (``notifications.contact.page_channels``), ``defaults``
    (true: no rule reaches you, so every channel that does is used at once), ``gaps`` (rules that cannot)."""

    rules = ContactRuleSerializer(many=True)
    routes = RouteSerializer(many=True)
    defaults = serializers.BooleanField()
    gaps = serializers.ListField(child=serializers.CharField())


class RulesField(serializers.ListField):
    """A list of contact rules whose length is checked before its items (``contact_rules_count_check``)."""

    def to_internal_value(self, data):
        contact_rules_count_check(data)
        return super().to_internal_value(data)


class ContactRulesInput(StrictInputSerializer):
    rules = RulesField(
        child=serializers.DictField(), allow_empty=True,
        help_text='e.g. [{"channel": "slack", "delay_minutes": 0}, {"channel": "webhook", "delay_minutes": 10}]; '
        "[]: the defaults.",
    )  # fmt: skip


def _contact_body(person) -> dict:
    plan = page_channels(person)
    rules = ContactRule.objects.filter(user=person).values("channel", "delay_minutes")
    return ContactRulesSerializer({"rules": list(rules), "routes": plan.routes, "defaults": not plan.from_rules,
                                   "gaps": list(plan.gaps)}).data  # fmt: skip


class ContactRulesView(APIView):
    """``/api/v1/me/contact-rules/``: which channels page you, after how many minutes."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["people"], responses=ContactRulesSerializer, operation_id="me_contact_rules_retrieve")
    def get(self, request):
        """Your contact rules and the channels a page to you goes to now."""
        return Response(_contact_body(request.user))

    @extend_schema(tags=["people"], request=ContactRulesInput, responses=ContactRulesSerializer,
                   operation_id="me_contact_rules_update")  # fmt: skip
    def put(self, request):
        """Replace your contact rules (each channel once, ``delay_minutes`` required, 0 to 1440); 400 names
        ``rules.<i>.<field>``."""
        data = ContactRulesInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact_rules_set(actor=request.user, person=request.user, rules=data.validated_data["rules"])
        return Response(_contact_body(request.user))


class TestPageView(APIView):
    """``POST /api/v1/me/test-page/``: page yourself alone through your contact rules, marked as a test."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["people"], request=None, responses={202: RouteSerializer(many=True), 429: ErrorSerializer},
                   operation_id="me_test_page_create")  # fmt: skip
    def post(self, request):
        """Send yourself a test page (webhook JSON ``"test": true``); once a minute. Answers the channels used.

        Again within the minute: 429 ``too_soon``, nothing sent, ``Retry-After`` in seconds."""
        plan = page_test_send(actor=request.user, person=request.user)
        return Response(RouteSerializer(plan.routes, many=True).data, status=status.HTTP_202_ACCEPTED)
