"""Post-mortems and everything hanging off them. Every write calls a service of the app.

``postmortems.services`` (edits, transitions, snoozes), ``.action_items``,
``.regression_tests``, ``.decline`` and ``.ci``.
"""

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from incidents.models import Source
from ownership.models import Repository
from postmortems import action_items, ci, decline, regression_tests, services
from postmortems.models import (
    ActionItem,
    PostMortem,
    RegressionTest,
    Reminder,
    ReminderDelivery,
    TestResult,
    TestRun,
)
from postmortems.moves import postmortem_move
from slos.policy import policy_annotations
from sredesk.api.errors import ErrorSerializer
from sredesk.api.etags import ETagMixin, check_if_match
from sredesk.api.permissions import check_write
from sredesk.api.viewsets import BaseViewSet, ReadOnlyViewSet
from sredesk.bodies import body_limit
from sredesk.tokens import bearer_token, token_hash

from . import filters, serializers

CONFLICT = OpenApiResponse(ErrorSerializer, description="The post-mortem's status or completion rules forbid this.")


class PostMortemViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Blameless post-mortems, soonest due first."""

    filterset_class = filters.PostMortemFilter
    ordering_fields = ("due_at", "created_at", "updated_at", "published_at", "status", "id")
    ordering = ("due_at", "id")
    schema_tags = ["post-mortems"]

    def get_queryset(self):
        verified = RegressionTest.objects.filter(postmortem=OuterRef("pk"), state=RegressionTest.State.VERIFIED)
        queryset = PostMortem.objects.select_related("incident__owning_team", "owner").annotate(
            has_verified_test=Exists(verified), **policy_annotations("incident__primary_service")
        )
        if self.action != "list":
            queryset = queryset.select_related("incident__primary_service").prefetch_related(
                Prefetch("action_items", ActionItem.objects.select_related("owner", "postmortem__incident")),
                Prefetch(
                    "regression_tests", RegressionTest.objects.select_related("repository", "state_run", "linked_by")
                ),
                Prefetch(
                    "reminders",
                    Reminder.objects.prefetch_related(
                        Prefetch(
                            "deliveries", ReminderDelivery.objects.select_related("recipient_user", "recipient_team")
                        )
                    ),
                ),
            )
        return queryset

    def get_serializer_class(self):
        return serializers.PostMortemListSerializer if self.action == "list" else serializers.PostMortemDetailSerializer

    def _detail(self, pk: int) -> Response:
        return Response(serializers.PostMortemDetailSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=serializers.PostMortemUpdateInput, responses=serializers.PostMortemDetailSerializer)
    def partial_update(self, request, pk=None):
        """Edit sections (Markdown), the owner or the due date; give only what changes."""
        postmortem = self.get_object()
        data = serializers.PostMortemUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        kwargs = {"sections": {k: changes.pop(k) for k in list(changes) if k in services.POSTMORTEM_SECTIONS}}
        if "owner" in changes:
            kwargs["owner"] = changes["owner"]
        with transaction.atomic():
            check_if_match(request, PostMortem, postmortem.pk)
            services.postmortem_update(
                postmortem_id=postmortem.pk,
                actor=request.user,
                source=Source.API,
                due_at=changes.get("due_at"),
                **kwargs,
            )
        return self._detail(postmortem.pk)

    def _transition(self, request, verb: str) -> Response:
        postmortem = self.get_object()
        with transaction.atomic():
            check_if_match(request, PostMortem, postmortem.pk)
            outcome = postmortem_move(verb=verb, postmortem_id=postmortem.pk, actor=request.user, source=Source.API)
        moved = self.get_queryset().get(pk=postmortem.pk)
        return Response(serializers.PostMortemMoveSerializer(moved, context={"outcome": outcome}).data)

    _transition_schema = {"request": None, "responses": {200: serializers.PostMortemMoveSerializer, 409: CONFLICT}}

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def submit_for_review(self, request, pk=None):
        """Draft -> in review."""
        return self._transition(request, "submit_for_review")

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def request_changes(self, request, pk=None):
        """In review -> draft."""
        return self._transition(request, "request_changes")

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Draft or in review -> published; announced to the owning team. From now on it owes a regression test."""
        return self._transition(request, "publish")

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Published -> complete, once every action item is done (or won't do) and a regression test is verified
        (or linked, when the service's CI does not report). 409 lists what still blocks it."""
        return self._transition(request, "complete")

    @extend_schema(
        request=serializers.DeclineInput, responses={200: serializers.PostMortemDetailSerializer, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Draft or in review -> declined, with a reason: nobody needs this post-mortem (a flapping alert, a
        downgraded incident). It then owes nothing and gets no reminders; ``reopen/`` brings it back as a draft."""
        postmortem = self.get_object()
        data = serializers.DeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            check_if_match(request, PostMortem, postmortem.pk)
            decline.postmortem_decline(
                postmortem_id=postmortem.pk, reason=data.validated_data["reason"], actor=request.user, source=Source.API
            )
        return self._detail(postmortem.pk)

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Declined -> draft (sections kept); a no-op for a post-mortem that is not declined."""
        postmortem = self.get_object()
        with transaction.atomic():
            check_if_match(request, PostMortem, postmortem.pk)
            decline.postmortem_reopen(postmortem_id=postmortem.pk, actor=request.user, source=Source.API)
        return self._detail(postmortem.pk)

    @extend_schema(request=serializers.SnoozeInput, responses=serializers.PostMortemDetailSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        """Pause reminders until ``until`` with a reason (bounded by the due date), or resume with ``until: null``."""
        postmortem = self.get_object()
        data = serializers.SnoozeInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            check_if_match(request, PostMortem, postmortem.pk)
            services.postmortem_snooze(
                postmortem_id=postmortem.pk, actor=request.user, source=Source.API, **data.validated_data
            )
        return self._detail(postmortem.pk)


class ActionItemViewSet(
    ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, BaseViewSet
):
    """Action items of post-mortems, by priority then due date."""

    serializer_class = serializers.ActionItemSerializer
    filterset_class = filters.ActionItemFilter
    ordering_fields = ("priority", "due_date", "created_at", "updated_at", "status", "id")
    ordering = ("priority", "due_date", "id")
    schema_tags = ["action items"]

    def get_queryset(self):
        return ActionItem.objects.select_related("postmortem__incident", "owner")

    def _detail(self, pk: int, status_code: int = 200) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data, status=status_code)

    @extend_schema(request=serializers.ActionItemCreateInput, responses={201: serializers.ActionItemSerializer})
    def create(self, request):
        """Add an action item to a post-mortem (its team, incident commander, owner, or staff)."""
        data = serializers.ActionItemCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        postmortem = fields.pop("postmortem")
        check_write(request, postmortem)
        item = action_items.action_item_create(postmortem=postmortem, actor=request.user, source=Source.API, **fields)
        return self._detail(item.pk, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.ActionItemUpdateInput, responses=serializers.ActionItemSerializer)
    def partial_update(self, request, pk=None):
        """Change some fields; ``wont_do`` needs a ``wont_do_reason``."""
        item = self.get_object()
        data = serializers.ActionItemUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            check_if_match(request, ActionItem, item.pk)
            action_items.action_item_update(
                action_item_id=item.pk, actor=request.user, source=Source.API, **data.validated_data
            )
        return self._detail(item.pk)

    def perform_destroy(self, instance: ActionItem) -> None:
        with transaction.atomic():
            check_if_match(self.request, ActionItem, instance.pk)
            action_items.action_item_delete(action_item_id=instance.pk, actor=self.request.user, source=Source.API)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Delete an action item (logged on the incident's timeline)."""
        return super().destroy(request, *args, **kwargs)


class RegressionTestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, BaseViewSet):
    """Regression tests linked to post-mortems, with their CI state."""

    serializer_class = serializers.RegressionTestSerializer
    filterset_class = filters.RegressionTestFilter
    ordering_fields = ("linked_at", "state_changed_at", "id")
    ordering = ("linked_at", "id")
    schema_tags = ["regression tests"]

    def get_queryset(self):
        return RegressionTest.objects.select_related("postmortem__incident", "repository", "state_run", "linked_by")

    @extend_schema(
        request=serializers.RegressionTestLinkInput,
        responses={
            201: serializers.RegressionTestSerializer,
            200: OpenApiResponse(
                serializers.RegressionTestSerializer, description="Already linked: the existing link."
            ),
        },
    )
    def create(self, request):
        """Link a regression test (canonical ``::`` id) to a post-mortem. Linking it again returns the link (200).

        Its state comes from CI runs already uploaded, so a test CI has seen pass is ``verified`` at once.
        """
        data = serializers.RegressionTestLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        check_write(request, data.validated_data["postmortem"])
        test, created = regression_tests.regression_test_link(
            actor=request.user, source=Source.API, **data.validated_data
        )
        body = self.get_serializer(self.get_queryset().get(pk=test.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def perform_destroy(self, instance: RegressionTest) -> None:
        regression_tests.regression_test_unlink(
            regression_test_id=instance.pk, actor=self.request.user, source=Source.API
        )

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Unlink a regression test; the post-mortem's reminders resume unless another accepted test remains."""
        return super().destroy(request, *args, **kwargs)


class RepositoryTokenAuthentication(BaseAuthentication):
    """A repository's CI token (``Authorization: Bearer <token>``), as ``/ci/junit/`` takes it; no session, no CSRF."""

    def authenticate(self, request):
        token = bearer_token(request.META.get("HTTP_AUTHORIZATION"))
        if not token:
            return None
        repository = Repository.objects.filter(ci_token_hash=token_hash(token)).first()
        if repository is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked repository token.")
        return (None, repository)

    def authenticate_header(self, request):
        return 'Bearer realm="ci"'


class RepositoryTokenScheme(OpenApiAuthenticationExtension):
    target_class = "postmortems.api.views.RepositoryTokenAuthentication"
    name = "repositoryToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A repository's CI token (`manage.py repository_token <repo>`).",
        }


class HasRepositoryToken(BasePermission):
    message = "Send the repository's CI token as 'Authorization: Bearer <token>'."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Repository)


def _count(outcomes=None):
    results = TestResult.objects.filter(test_run=OuterRef("pk"))
    if outcomes:
        results = results.filter(outcome__in=outcomes)
    counted = results.order_by().values("test_run").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class TestRunViewSet(ReadOnlyViewSet):
    """CI test runs, newest first (read-only; uploads come from CI with a repository token)."""

    __test__ = False  # not a pytest test class
    serializer_class = serializers.TestRunSerializer
    filterset_class = filters.TestRunFilter
    ordering_fields = ("created_at", "completed_at", "id")
    ordering = ("-created_at", "-id")
    schema_tags = ["test runs"]

    def get_queryset(self):
        return TestRun.objects.select_related("repository").annotate(
            tests=_count(), failures=_count([TestResult.Outcome.FAILED, TestResult.Outcome.ERROR])
        )

    @extend_schema(
        request={"multipart/form-data": serializers.TestRunUploadInput},
        responses={201: serializers.TestRunUploadResult},
    )
    @action(
        detail=False,
        methods=["post"],
        authentication_classes=[RepositoryTokenAuthentication],
        permission_classes=[HasRepositoryToken],
        parser_classes=[MultiPartParser],
    )
    @body_limit("SREDESK_JUNIT_MAX_BYTES")
    def upload(self, request):
        """Upload JUnit XML for a CI run, authenticated by the repository's CI token (the same as ``/ci/junit/``).

        Matching regression tests move to verified, failing or missing. The
        same file uploaded twice to one run is counted once. The body (all
        files) may be at most ``SREDESK_JUNIT_MAX_BYTES``, chunked or not (413 past it).
        """
        data = serializers.TestRunUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        summary = ci.ci_upload(
            repository=request.auth,
            files=[(upload.name or "", upload) for upload in params["file"]],
            branch=params["branch"],
            commit=params["commit"],
            run_key=params["run_key"],
            url=params["url"],
            fmt=params["format"] or None,
            complete=params["complete"],
        )
        body = {"run": serializers.TestRunSummarySerializer(summary.run).data, **summary.counts()}
        return Response(body, status=status.HTTP_201_CREATED)


class TestResultViewSet(ReadOnlyViewSet):
    """Results of CI test runs (read-only)."""

    __test__ = False  # not a pytest test class
    serializer_class = serializers.TestResultSerializer
    filterset_class = filters.TestResultFilter
    ordering_fields = ("id",)
    ordering = ("-id",)
    schema_tags = ["test runs"]

    def get_queryset(self):
        return TestResult.objects.all()


class ReminderViewSet(ReadOnlyViewSet):
    """Reminders sent about post-mortems, with their deliveries (read-only: the reminder sweep writes them)."""

    serializer_class = serializers.ReminderSerializer
    filterset_class = filters.ReminderFilter
    ordering_fields = ("due_at", "created_at", "id")
    ordering = ("-due_at", "-id")
    schema_tags = ["reminders"]

    def get_queryset(self):
        return Reminder.objects.prefetch_related(
            Prefetch("deliveries", ReminderDelivery.objects.select_related("recipient_user", "recipient_team"))
        )
