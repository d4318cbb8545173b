"""The on-call admin: pages load, and an override cannot be put in the past from there either."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from oncall.models import Override
from tests.factories import LayerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_pages_load(operator_client):
    layer = LayerFactory()
    for name in ("schedule", "layer", "override", "escalationpolicy", "escalationstep"):
        assert operator_client.get(reverse(f"admin:oncall_{name}_changelist")).status_code == 200
        assert operator_client.get(reverse(f"admin:oncall_{name}_add")).status_code == 200
    assert operator_client.get(reverse("admin:oncall_layer_change", args=[layer.pk])).status_code == 200
    assert operator_client.get(reverse("admin:oncall_page_changelist")).status_code == 200
    assert operator_client.get(reverse("admin:oncall_swap_changelist")).status_code == 200


def window(start):
    end = start + dt.timedelta(days=1)
    return {"start_0": f"{start:%Y-%m-%d}", "start_1": f"{start:%H:%M:%S}", "end_0": f"{end:%Y-%m-%d}",
            "end_1": f"{end:%H:%M:%S}"}  # fmt: skip


def test_an_override_in_the_past_is_refused(operator_client):
    layer, person = LayerFactory(), UserFactory()
    data = {"schedule": layer.schedule_id, "kind": "take", "user": person.pk, "note": ""}
    page = operator_client.post(
        reverse("admin:oncall_override_add"), data | window(timezone.localtime() - dt.timedelta(days=2))
    )
    assert page.status_code == 200 and "shifts already served are not rewritten" in page.content.decode()
    assert not Override.objects.exists()
    later = window(timezone.localtime() + dt.timedelta(days=1))
    assert operator_client.post(reverse("admin:oncall_override_add"), data | later).status_code == 302
    assert Override.objects.get().created_by is not None


def test_an_override_made_in_the_admin_tells_whose_shifts_changed(operator_client):
    from notifications.models import Notification
    from oncall.models import LayerMember

    layer, on_call, stand_in = LayerFactory(anchor_date=dt.date(2026, 1, 5)), UserFactory(), UserFactory()
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    LayerMember.objects.create(layer=layer, user=on_call, position=0, active_from=since)
    data = {"schedule": layer.schedule_id, "kind": "take", "user": stand_in.pk, "note": ""}
    later = window(timezone.localtime() + dt.timedelta(days=1))
    assert operator_client.post(reverse("admin:oncall_override_add"), data | later).status_code == 302
    told = Notification.objects.filter(channel="outbox", dedup_key__startswith="oncall-changed:")
    assert sorted(told.values_list("address", flat=True)) == sorted([f"user:{on_call.username}",
                                                                      f"user:{stand_in.username}"])  # fmt: skip


def _told(prefix: str = "oncall-changed:") -> list[tuple[str, str]]:
    from notifications.models import Notification

    told = Notification.objects.filter(channel="outbox", dedup_key__startswith=prefix)
    return sorted((n.address, n.text.split(":")[1].split(" from ")[0].strip()) for n in told)


def _delete_selected(operator_client, model: str, objects) -> None:
    """What an operator does: tick the rows, choose "Delete selected", confirm."""
    answer = operator_client.post(
        reverse(f"admin:oncall_{model}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk for obj in objects], "post": "yes"},
    )
    assert answer.status_code == 302, answer.content


def test_deleting_selected_overrides_tells_whose_shifts_changed_as_deleting_one_does(operator_client):
    from oncall.models import LayerMember

    layer, on_call, stand_in = LayerFactory(anchor_date=dt.date(2026, 1, 5)), UserFactory(), UserFactory()
    LayerMember.objects.create(
        layer=layer, user=on_call, position=0, active_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    tomorrow = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    overrides = [
        Override.objects.create(
            schedule=layer.schedule,
            user=stand_in,
            start=tomorrow + dt.timedelta(days=d),
            end=tomorrow + dt.timedelta(days=d, hours=6),
        )
        for d in (0, 2)
    ]

    _delete_selected(operator_client, "override", overrides)

    assert not Override.objects.exists()
    # Both back to the rotation: the person on call gets their two pieces back, the stand-in loses them.
    assert _told() == sorted(
        [(f"user:{on_call.username}", "you are now on call")] * 2
        + [(f"user:{stand_in.username}", "you are no longer on call")] * 2
    )


def test_deleting_selected_layers_tells_their_members(operator_client):
    from oncall.models import Layer, LayerMember

    layer, on_call = LayerFactory(anchor_date=dt.date(2026, 1, 5)), UserFactory()
    LayerMember.objects.create(
        layer=layer, user=on_call, position=0, active_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )

    _delete_selected(operator_client, "layer", [layer])

    assert not Layer.objects.exists() and not LayerMember.objects.exists()
    assert _told() == [(f"user:{on_call.username}", "you are no longer on call")]


def test_the_admin_says_hand_off_as_the_ui_does(operator_client):
    """The admin index listed "Handoff notes" and the forms said "Handoff time"/"Handoff at" while every page, notice
    and help text says "hand-off"."""
    LayerFactory()
    pages = [
        operator_client.get(reverse("admin:index")),
        operator_client.get(reverse("admin:oncall_handoffnote_changelist")),
        operator_client.get(reverse("admin:oncall_layer_changelist")),
        operator_client.get(reverse("admin:oncall_layer_add")),
    ]
    text = "".join(page.content.decode() for page in pages)

    assert "Hand-off notes" in text and "Hand-off time" in text and "Hand-off" in text
    assert "Handoff" not in text.replace("HandoffNote", "")
