"""FilterSets for people, teams, services and repositories."""

import django_filters

from ownership.models import Repository, Service, Team, User
from sredesk.api import filters as f


class PersonFilter(django_filters.FilterSet):
    search = f.search("Part of the username, first or last name.")
    team = f.ref("memberships__team", Team, "slug", "Members of this team (id or slug).")
    is_active = f.boolean("Active accounts only (true) or deactivated ones (false).", field_name="is_active")

    class Meta:
        model = User
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(f.any_icontains(["username", "first_name", "last_name"], value))


class TeamFilter(django_filters.FilterSet):
    search = f.search("Part of the name or slug.")
    member = f.ref("memberships__user", User, "username", "Teams this person belongs to (id or username).")

    class Meta:
        model = Team
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(f.any_icontains(["name", "slug"], value))


class ServiceFilter(django_filters.FilterSet):
    search = f.search("Part of the name, slug or description.")
    team = f.ref("team", Team, "slug", "Owned by this team (id or slug).")
    tier = f.multi_choice("tier", [(str(v), label) for v, label in Service.Tier.choices], "Any of these tiers (1-4).")
    repository = f.ref("repositories", Repository, "name", "Built from this repository (id or name).")

    class Meta:
        model = Service
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(f.any_icontains(["name", "slug", "description"], value))


class RepositoryFilter(django_filters.FilterSet):
    search = f.search("Part of the name.")
    service = f.ref("services", Service, "slug", "Repositories of this service (id or slug).")

    class Meta:
        model = Repository
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)
