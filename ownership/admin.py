from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Membership, Repository, Responsibility, Service, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("On call and reminders", {"fields": ("timezone", "work_start", "work_end", "working_days", "slack_user_id")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "timezone", "slack_user_id", "is_staff")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "slack_channel")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role")
    list_filter = ("role", "team")
    search_fields = ("user__username", "team__name")


class ResponsibilityInline(admin.TabularInline):
    model = Responsibility
    extra = 0
    autocomplete_fields = ["user", "team"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    inlines = [ResponsibilityInline]
    list_display = ("name", "team", "tier", "gaps")
    list_filter = ("tier", "team")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("repositories",)
    list_select_related = ("team",)

    @admin.display(description="catalog gaps")
    def gaps(self, service: Service) -> str:
        return ", ".join(service.catalog_gaps) or "—"


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "default_branch")
    search_fields = ("name", "url")
