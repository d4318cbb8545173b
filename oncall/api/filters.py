"""FilterSets for schedules, layers, members and overrides."""

import django_filters

from oncall.models import EscalationPolicy, HandoffNote, Layer, LayerMember, Override, Schedule, Swap
from ownership.models import Team, User
from sredesk.api import filters as f


class ScheduleFilter(django_filters.FilterSet):
    search = f.search("Part of the name or slug.")
    team = f.ref("team", Team, "slug", "Schedules of this team (id or slug).")

    class Meta:
        model = Schedule
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(f.any_icontains(["name", "slug"], value))


class LayerFilter(django_filters.FilterSet):
    schedule = f.ref("schedule", Schedule, "slug", "Layers of this schedule (id or slug).")

    class Meta:
        model = Layer
        fields: list[str] = []


class MemberFilter(django_filters.FilterSet):
    layer = f.ref("layer", Layer, None, "Places in this layer (id).")
    schedule = f.ref("layer__schedule", Schedule, "slug", "Places in this schedule's layers (id or slug).")
    user = f.ref("user", User, "username", "This person's places (id or username).")

    class Meta:
        model = LayerMember
        fields: list[str] = []


class OverrideFilter(django_filters.FilterSet):
    schedule = f.ref("schedule", Schedule, "slug", "Overrides of this schedule (id or slug).")
    user = f.ref("user", User, "username", "This person's overrides (id or username).")
    kind = f.multi_choice("kind", Override.Kind.choices, "Any of these kinds (take, remove).")
    ends_after = f.instant("end", "gt", "Overrides ending after this time (ISO 8601; no offset means UTC).")
    starts_before = f.instant("start", "lt", "Overrides starting before this time (ISO 8601; no offset means UTC).")

    class Meta:
        model = Override
        fields: list[str] = []


class SwapFilter(django_filters.FilterSet):
    schedule = f.ref("schedule", Schedule, "slug", "Swaps of this schedule (id or slug).")
    asked_by = f.ref("asked_by", User, "username", "Swaps this person asked for (id or username).")
    taken_by = f.ref("taken_by", User, "username", "Swaps this person took (id or username).")
    state = f.multi_choice("state", Swap.State.choices, "Any of these states (asked, taken, cancelled, expired).")
    ends_after = f.instant("end", "gt", "Swaps ending after this time (ISO 8601; no offset means UTC).")

    class Meta:
        model = Swap
        fields: list[str] = []


class HandoffNoteFilter(django_filters.FilterSet):
    schedule = f.ref("schedule", Schedule, "slug", "Notes on this schedule (id or slug).")
    author = f.ref("author", User, "username", "Notes by this person (id or username).")

    class Meta:
        model = HandoffNote
        fields: list[str] = []


class EscalationPolicyFilter(django_filters.FilterSet):
    team = f.ref("team", Team, "slug", "Policies of this team (id or slug).")

    class Meta:
        model = EscalationPolicy
        fields: list[str] = []
