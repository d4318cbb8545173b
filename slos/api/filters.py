"""The SLO list's filters: by service, team, status, SLI kind, paused, and a search."""

import django_filters

from ownership.models import Service, Team
from slos.models import SLO, Status
from sredesk.api import filters as f


class SLOFilter(django_filters.FilterSet):
    search = f.search("Part of the name, slug or description, or of the service's name or slug.")
    service = f.ref("service", Service, "slug", "SLOs of this service (id or slug).")
    team = f.ref("service__team", Team, "slug", "SLOs of this team's services (id or slug).")
    status = f.multi_choice(
        "state__status",
        Status.choices,
        "Any of these statuses of the last evaluation (an SLO not evaluated yet has none).",
    )
    sli_kind = f.multi_choice("sli_kind", SLO.SLIKind.choices, "Any of these SLI kinds.")
    paused = f.boolean("Paused SLOs only (true) or running ones (false).", field_name="paused")

    class Meta:
        model = SLO
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            f.any_icontains(["name", "slug", "description", "service__name", "service__slug"], value)
        )
