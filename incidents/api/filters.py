"""FilterSets for incidents, alerts and integrations (strict: a bad value is a 400 naming the parameter)."""

import django_filters
from django.db.models import Exists, OuterRef, Q

from incidents.models import Alert, Incident, Integration, Severity, parse_public_id
from ownership.models import Service, Team, User
from sredesk.api import filters as f
from sredesk.inputs import InputError

OPEN_STATUSES = [Incident.Status.TRIGGERED, Incident.Status.ACKNOWLEDGED, Incident.Status.MITIGATED]


def _status_alias(value: str) -> list[str] | None:
    return [str(s) for s in OPEN_STATUSES] if value.lower() == "open" else None


def _severity_alias(value: str) -> list[str] | None:
    by_label = {label.upper(): str(number) for number, label in Severity.choices}
    return [by_label[value.upper()]] if value.upper() in by_label else None


SEVERITY_CHOICES = [(str(number), label) for number, label in Severity.choices]


class IncidentFilter(django_filters.FilterSet):
    status = f.multi_choice(
        "status",
        Incident.Status.choices,
        "Any of these statuses; `open` means triggered, acknowledged or mitigated. Repeat or comma-separate.",
        aliases=_status_alias,
        documented=["open"],
    )
    severity = f.multi_choice(
        "severity",
        SEVERITY_CHOICES,
        "Any of these severities, as SEV1..SEV4 or 1..4. Repeat or comma-separate.",
        aliases=_severity_alias,
        documented=list(Severity.labels),
    )
    service = f.ref("services", Service, "slug", "Affecting this service (id or slug).", method="filter_service")
    team = f.ref("owning_team", Team, "slug", "Owned by this team (id or slug).")
    commander = f.ref("commander", User, "username", "Commanded by this person (id or username).")
    started_after, started_before = f.instant_range("started_at", "Impact began")
    detected_after, detected_before = f.instant_range("detected_at", "Detected")
    resolved_after, resolved_before = f.instant_range("resolved_at", "Resolved")
    updated_after, updated_before = f.instant_range("updated_at", "Last changed")
    search = f.search("Part of the title or summary, or a public id (INC-42).")

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_service(self, queryset, name, service):
        through = Incident.services.through.objects.filter(incident_id=OuterRef("pk"), service_id=service.pk)
        return queryset.filter(Exists(through))

    def filter_search(self, queryset, name, value):
        try:
            return queryset.filter(pk=parse_public_id(value, field="search"))
        except InputError:  # not a public id: words of the title or summary
            return queryset.filter(Q(title__icontains=value) | Q(summary__icontains=value))


class AlertFilter(django_filters.FilterSet):
    status = f.multi_choice("status", Alert.Status.choices, "firing and/or resolved.")
    integration = f.ref("integration", Integration, "name", "From this integration (id or name).")
    incident = f.ref("incident", Incident, None, "Grouped into this incident (id or INC-42).", parse=parse_public_id)
    fingerprint = django_filters.CharFilter(max_length=64, help_text="The sender's fingerprint, exactly.")
    orphan = f.boolean("Alerts attached to no incident (true) or to one (false).", method="filter_orphan")
    starts_after, starts_before = f.instant_range("starts_at", "Started firing")
    search = f.search("Part of the alert's name.")

    class Meta:
        model = Alert
        fields: list[str] = []

    def filter_orphan(self, queryset, name, value):
        return queryset.filter(incident__isnull=value)

    def filter_search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)


class IntegrationFilter(django_filters.FilterSet):
    kind = f.multi_choice("kind", Integration.Kind.choices, "Any of these kinds.")
    enabled = f.boolean("Enabled (true) or disabled (false) integrations.", field_name="enabled")
    search = f.search("Part of the name.")

    class Meta:
        model = Integration
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)
