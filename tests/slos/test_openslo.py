"""OpenSLO v1 SLO documents in and out: manage.py slo_import / slo_export and /api/v1/slos/import/ and export/.

The documents are written by hand after the OpenSLO README's spec; the
refused ones are refused with a sentence naming where, an exit code of 2 (or
a 400), and nothing written.
"""

import os
import subprocess
import sys
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from slos.imports import slo_export, slo_import
from slos.models import SLO
from tests.api.clients import client_for
from tests.factories import MembershipFactory, ServiceFactory, SLOFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PROMETHEUS = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  displayName: Checkout availability
spec:
  description: Checkout answers without a server error.
  service: checkout
  indicator:
    metadata:
      name: checkout-errors
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(increase(http_requests_total{job="checkout",code!~"5.."}[$window]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{job="checkout"}
  timeWindow:
    - duration: 4w
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good requests
      targetPercent: 99.95
"""

CALENDAR_WITH_REFS = """\
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: pushed
spec:
  type: sredesk
  connectionDetails: {}
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: search-pushed
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        metricSourceRef: pushed
        spec: {pushed: good}
    total:
      metricSource:
        metricSourceRef: pushed
        spec: {pushed: total}
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: search
spec:
  description: Catalog search.
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-success
  annotations:
    sredesk/bucket-seconds: "60"
    sredesk/alert-min-bad-events: "25"
spec:
  service: search
  indicatorRef: search-pushed
  timeWindow:
    - duration: 1M
      calendar:
        startTime: 2024-01-01 00:00:00
        timeZone: Europe/Berlin
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"""

INCIDENTS = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-uptime
spec:
  service: checkout
  indicator:
    metadata:
      name: checkout-impact
    spec:
      thresholdMetric:
        metricSource:
          type: sredesk
          spec:
            incidentImpact: {minSeverity: SEV1}
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - target: 0.999
      op: lte
      value: 0
      timeSliceTarget: 1
      timeSliceWindow: 1m
"""


@pytest.fixture
def catalog():
    team = TeamFactory(slug="payments")
    member = MembershipFactory(team=team, user=UserFactory(username="member")).user
    ServiceFactory(team=team, slug="checkout")
    ServiceFactory(team=team, slug="search")
    ServiceFactory(team=TeamFactory(slug="other"), slug="ledger")
    return {"team": team, "member": member}


def run(*texts, tmp_path, dry_run=False):
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"slo-{i}.yaml"
        path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
        paths.append(str(path))
    out = StringIO()
    call_command("slo_import", *paths, *(["--dry-run"] if dry_run else []), stdout=out, stderr=StringIO())
    return out.getvalue()


def test_documents_become_slos_and_a_second_import_changes_nothing(catalog, tmp_path):
    out = run(PROMETHEUS, CALENDAR_WITH_REFS, INCIDENTS, tmp_path=tmp_path)
    assert "3 created, 0 updated, 0 unchanged" in out
    prom = SLO.objects.get(slug="checkout-availability")
    assert prom.service.slug == "checkout" and prom.name == "Checkout availability"
    assert prom.target == Decimal("0.9995") and prom.window_kind == "rolling" and prom.window_days == 28
    assert prom.sli_kind == "events_prometheus" and prom.good_query.endswith("[$window]))")
    assert prom.total_query == 'sum(increase(http_requests_total{job="checkout"}[$window]))'  # a counter selector
    pushed = SLO.objects.get(slug="search-success")
    assert (pushed.sli_kind, pushed.window_kind) == ("events_pushed", "calendar_month")
    assert pushed.timezone == "Europe/Berlin"
    assert pushed.bucket_seconds == 60 and pushed.alert_min_bad_events == 25 and pushed.target == Decimal("0.99")
    uptime = SLO.objects.get(slug="checkout-uptime")
    assert uptime.sli_kind == "incident_time" and uptime.min_severity == 1 and uptime.window_days == 7

    assert "0 created, 0 updated, 3 unchanged" in run(PROMETHEUS, CALENDAR_WITH_REFS, INCIDENTS, tmp_path=tmp_path)
    again = run(PROMETHEUS.replace("targetPercent: 99.95", "targetPercent: 99.9"), tmp_path=tmp_path)
    assert "updated: checkout/checkout-availability" in again
    assert SLO.objects.count() == 3 and SLO.objects.get(slug="checkout-availability").target == Decimal("0.999")


def test_a_dry_run_writes_nothing(catalog, tmp_path):
    assert "1 created" in run(PROMETHEUS, tmp_path=tmp_path, dry_run=True)
    assert not SLO.objects.exists()


def test_an_export_reads_back_as_the_same_slos(catalog, tmp_path):
    run(PROMETHEUS, CALENDAR_WITH_REFS, INCIDENTS, tmp_path=tmp_path)
    SLO.objects.filter(slug="checkout-uptime").update(paused=True, min_coverage=Decimal("0.8"))
    before = {s.slug: s for s in SLO.objects.all()}
    out = StringIO()
    call_command("slo_export", stdout=out)
    text = out.getvalue()
    assert text.startswith("apiVersion: openslo/v1\nkind: SLO\n") and text.count("\n---\n") == 2
    SLO.objects.all().delete()
    assert "3 created" in run(text, tmp_path=tmp_path)
    for slug, old in before.items():
        new = SLO.objects.get(slug=slug)
        for field in ("name", "description", "target", "window_kind", "window_days", "timezone", "sli_kind",
                      "bucket_seconds", "good_query", "total_query", "min_severity", "min_coverage",
                      "alert_min_bad_events", "absent_after_seconds", "paused"):  # fmt: skip
            assert getattr(new, field) == getattr(old, field), (slug, field)
    assert "3 unchanged" in run(text, tmp_path=tmp_path)


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


BOMB = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"
REFUSED = {
    "api version": (_edit(PROMETHEUS, "openslo/v1", "openslo/v2alpha"), "apiVersion", "Only openslo/v1"),
    "alert policy kind": (
        "apiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: x}\nspec: {}\n",
        "kind",
        "burn-rate alerts",
    ),
    "alert policies": (
        _edit(PROMETHEUS, "  budgetingMethod:", "  alertPolicies:\n    - alertPolicyRef: fast\n  budgetingMethod:"),
        "spec.alertPolicies",
        "Remove alertPolicies",
    ),
    "two objectives": (
        _edit(PROMETHEUS, "      targetPercent: 99.95", "      targetPercent: 99.95\n    - target: 0.99"),
        "spec.objectives",
        "exactly one objective",
    ),
    "target and percent": (
        _edit(PROMETHEUS, "      targetPercent: 99.95", "      targetPercent: 99.95\n      target: 0.9995"),
        "spec.objectives.0",
        "one of them",
    ),
    "target too high": (_edit(PROMETHEUS, "targetPercent: 99.95", "targetPercent: 99.9999"), "targetPercent", "99.999"),
    "timeslices over a metric": (
        _edit(PROMETHEUS, "Occurrences", "Timeslices"),
        "spec.budgetingMethod",
        "incident-impact",
    ),
    "bad ratio": (_edit(PROMETHEUS, "        good:\n", "        bad:\n"), "ratioMetric.bad", "bad and raw"),
    "datadog": (_edit(PROMETHEUS, "type: Prometheus", "type: Datadog"), "ratioMetric", "Prometheus"),
    "quarter": (
        _edit(
            PROMETHEUS,
            "- duration: 4w\n      isRolling: true",
            "- duration: 1Q\n      isRolling: false\n      calendar: {timeZone: UTC}",
        ),
        "timeWindow.0.duration",
        "one month",
    ),
    "rolling month": (_edit(PROMETHEUS, "duration: 4w", "duration: 1M"), "timeWindow.0.duration", "whole days"),
    "mid-month calendar": (
        _edit(CALENDAR_WITH_REFS, "2024-01-01 00:00:00", "2024-01-15 00:00:00"),
        "startTime",
        "the 1st",
    ),
    "unknown service": (_edit(PROMETHEUS, "service: checkout", "service: nowhere"), "spec.service", "No service"),
    "query without window": (
        _edit(PROMETHEUS, 'query: http_requests_total{job="checkout"}', "query: sum(rate(x[5m]))"),
        "ratioMetric.total.metricSource.spec.query",
        "$window",
    ),
    "missing sli": (
        _edit(CALENDAR_WITH_REFS, "indicatorRef: search-pushed", "indicatorRef: gone"),
        "spec.indicatorRef",
        "No SLI document",
    ),
    "bad name": (
        _edit(PROMETHEUS, "name: checkout-availability", "name: Checkout_Availability"),
        "metadata.name",
        "RFC 1123",
    ),
    "same slo twice": (PROMETHEUS + "---\n" + PROMETHEUS, "metadata.name", "The same SLO"),
    "aliases": (BOMB, "", "aliases"),
    "deep": ("a: " + "[" * 30 + "]" * 30 + "\n", "", "nested more than 20"),
    "duplicate key": (
        _edit(PROMETHEUS, "  service: checkout\n", "  service: checkout\n  service: search\n"),
        "",
        "appears twice",
    ),
    "python object": ("!!python/object/apply:os.system [echo hi]\n", "", "Not readable YAML"),
    "too large": ("# " + "x" * 300_000 + "\n", "", "Larger than 256 KiB"),
    "not utf-8": (b"\xff\xfe a: b\n", "", "Not UTF-8"),
    "surrogate escape": (_edit(PROMETHEUS, "service: checkout", 'service: "check\\ud800out"'), "", "lone surrogate"),
    "nul escape": (_edit(PROMETHEUS, "service: checkout", 'service: "check\\0out"'), "", "NUL"),
    "impossible date": (_edit(CALENDAR_WITH_REFS, "2024-01-01 00:00:00", "2024-13-40 00:00:00"), "", "Not readable"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unsupported_documents_are_refused_with_a_sentence_and_exit_code_2(catalog, tmp_path, case):
    text, where, sentence = REFUSED[case]
    SLOFactory(service=catalog["team"].services.get(slug="checkout"), slug="kept", name="Kept")
    err = StringIO()
    path = tmp_path / "bad.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(CommandError) as raised:
        call_command("slo_import", str(good_file(tmp_path)), str(path), stdout=StringIO(), stderr=err)
    assert raised.value.returncode == 2
    assert "bad.yaml" in err.getvalue() and where in err.getvalue() and sentence in err.getvalue(), err.getvalue()
    assert list(SLO.objects.values_list("slug", flat=True)) == ["kept"]  # the good file was not imported either


def good_file(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(PROMETHEUS.replace("checkout-availability", "checkout-ok"))
    return path


def test_the_command_exits_with_2_for_a_refused_document(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("apiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: fast}\nspec: {}\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "slo_import", str(path)],
        cwd=settings.BASE_DIR, env=os.environ.copy(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "policy.yaml (document 1) kind: Only SLO documents are imported" in done.stderr


def test_the_api_imports_for_writers_and_exports_with_the_lists_filters(catalog):
    member = client_for(catalog["member"])
    response = member.post("/api/v1/slos/import/", {"yaml": PROMETHEUS + "---\n" + INCIDENTS}, format="json")
    assert response.status_code == 200, response.json()
    assert [(r["action"], r["slo"]["slug"]) for r in response.json()["slos"]] == [
        ("created", "checkout-availability"), ("created", "checkout-uptime")
    ]  # fmt: skip
    refused = member.post("/api/v1/slos/import/", {"yaml": REFUSED["rolling month"][0]}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["yaml.0.spec.timeWindow.0.duration"]
    ledger = _edit(PROMETHEUS, "service: checkout", "service: ledger")  # another team's service
    refused = member.post("/api/v1/slos/import/", {"yaml": ledger}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Only members of the service's team and staff may change its SLOs."
    assert SLO.objects.count() == 2

    exported = client_for(UserFactory()).get("/api/v1/slos/export/?service=checkout").json()
    assert exported["count"] == 2 and exported["documents"][0]["kind"] == "SLO"
    assert exported["yaml"] == slo_export(SLO.objects.order_by("name", "pk").select_related("service"))[1]
    assert client_for(UserFactory()).get("/api/v1/slos/export/?service=search").json()["count"] == 0


def test_import_is_the_same_service_call_for_every_door(catalog):
    done = slo_import(sources=[("inline", PROMETHEUS)], actor=catalog["member"])
    assert [(item.action, item.slo.slug) for item in done] == [("created", "checkout-availability")]


def test_export_to_a_file_says_how_many_slos_naturally(catalog, tmp_path):
    """ "1 SLO written", "2 SLOs written": no "SLO(s)"."""
    run(PROMETHEUS, tmp_path=tmp_path)
    out, path = StringIO(), tmp_path / "out.yaml"
    call_command("slo_export", output=str(path), stdout=out)
    assert out.getvalue() == f"1 SLO written to {path}\n"

    run(INCIDENTS, tmp_path=tmp_path)
    out = StringIO()
    call_command("slo_export", output=str(path), stdout=out)
    assert out.getvalue() == f"2 SLOs written to {path}\n"
