from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, Prefetch, Q

from notifications.problems import open_slack_problems
from notifications.reach import person_reach, reached_beyond_outbox
from sredesk.admin import HistoryAdmin, LinkFieldsMixin, SharedChoicesInline

from .models import ApiToken, Membership, Repository, Responsibility, Service, Team, User
from .services import repository_token_issue


class ReachableFilter(admin.SimpleListFilter):
    """People whom no configured channel reaches: they get reminders in the outbox only (also a metric)."""

    title = "reachable by reminders"
    parameter_name = "reachable"

    def lookups(self, request, model_admin):
        return [("no", "Unreachable (outbox only)"), ("yes", "Reachable")]

    def queryset(self, request, queryset):
        reachable = reached_beyond_outbox()
        if self.value() == "no":
            return queryset.exclude(reachable)
        if self.value() == "yes":
            return queryset.filter(reachable)
        return queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("On call and reminders", {"fields": ("timezone", "work_start", "work_end", "working_days", "slack_user_id")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "timezone", "reminder_channels", "is_staff")
    list_filter = (*BaseUserAdmin.list_filter, ReachableFilter, "teams", "timezone")

    @admin.display(description="reminders reach them by")
    def reminder_channels(self, user: User) -> str:
        """The configured channels that reach this person (``notifications.reach``); 'outbox only' is a gap to fix."""
        channels = [channel for channel, _ in person_reach(user).channels if channel != "outbox"]
        return ", ".join(channels) or "outbox only (unreachable)"


class MembershipInline(SharedChoicesInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "team")


@admin.register(Team)
class TeamAdmin(HistoryAdmin):
    list_display = ("name", "slug", "slack_channel", "lead_name", "member_count", "service_count")
    search_fields = ("name", "slug", "slack_channel")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]
    readonly_fields = ("slack_problems",)

    @admin.display(description="Slack problems")
    def slack_problems(self, team: Team) -> str:
        """Open Slack errors on this team a person must fix (``notifications.problems``), or "none"."""
        if team.pk is None:
            return "—"
        return "; ".join(p.words for p in open_slack_problems(team=team)) or "none"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_members=Count("memberships", distinct=True), n_services=Count("services", distinct=True))
            .prefetch_related(Prefetch("memberships", Membership.objects.select_related("user")))  # for the lead
        )

    @admin.display(description="lead")
    def lead_name(self, team: Team) -> str:
        return str(team.lead or "—")

    @admin.display(description="members", ordering="n_members")
    def member_count(self, team: Team) -> int:
        return team.n_members

    @admin.display(description="services", ordering="n_services")
    def service_count(self, team: Team) -> int:
        return team.n_services


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role")
    list_filter = ("role", "team")
    search_fields = ("user__username", "user__first_name", "user__last_name", "team__name")
    autocomplete_fields = ("user", "team")


class ResponsibilityInline(SharedChoicesInline):
    model = Responsibility
    extra = 0
    autocomplete_fields = ["user", "team"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "user", "team")


class CatalogGapFilter(admin.SimpleListFilter):
    """Services missing an owner, a dashboard, alerts or a runbook (``Service.catalog_gaps``)."""

    title = "catalog gap"
    parameter_name = "gap"

    def lookups(self, request, model_admin):
        return [("any", "Any gap"), ("owner", "No owner"), ("dashboard", "No dashboard"), ("alerts", "No alerts"),
                ("runbook", "No runbook")]  # fmt: skip

    def queryset(self, request, queryset):
        missing = {
            "owner": Q(team__isnull=True),
            "dashboard": Q(dashboard_url=""),
            "alerts": Q(alerts_url=""),
            "runbook": Q(runbook_url=""),
        }
        if self.value() == "any":
            condition = Q()
            for q in missing.values():
                condition |= q
            return queryset.filter(condition)
        if self.value() in missing:
            return queryset.filter(missing[self.value()])
        return queryset


@admin.register(Service)
class ServiceAdmin(HistoryAdmin):
    inlines = [ResponsibilityInline]
    list_display = ("name", "team", "tier", "ci_reports_tests", "gaps")
    list_filter = (CatalogGapFilter, "tier", "team", "ci_reports_tests")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("repositories",)
    list_select_related = ("team",)

    @admin.display(description="catalog gaps")
    def gaps(self, service: Service) -> str:
        return ", ".join(service.catalog_gaps) or "—"


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    list_display = ("service", "role", "user", "team")
    list_filter = ("role", "service__team")
    search_fields = ("service__name", "user__username", "team__name")
    list_select_related = ("service", "user", "team")
    autocomplete_fields = ("service", "user", "team")


@admin.register(Repository)
class RepositoryAdmin(LinkFieldsMixin, admin.ModelAdmin):
    list_display = ("name", "url", "default_branch", "extra_counted_branches", "has_ci_token")
    search_fields = ("name", "url")
    readonly_fields = ("ci_token_hash",)
    actions = ["issue_ci_token"]

    @admin.display(boolean=True, description="CI token")
    def has_ci_token(self, repository: Repository) -> bool:
        return bool(repository.ci_token_hash)

    @admin.action(description="Issue a new CI token (shown once; the old one stops working)")
    def issue_ci_token(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            repository, token = repository_token_issue(repository_id=pk)
            self.message_user(
                request, f"{repository.name}: CI token {token} (shown only now: put it in CI)", messages.WARNING
            )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with ``manage.py api_token`` (shown once); here they can be seen and revoked."""

    list_display = ("user", "created_at")
    search_fields = ("user__username",)
    readonly_fields = ("user", "created_at")

    def has_add_permission(self, request) -> bool:
        return False
