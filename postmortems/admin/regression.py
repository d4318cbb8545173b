"""Admin of regression tests (verify by hand), CI runs and results, and "not testable" requests."""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

from incidents.models import Source
from sredesk.admin import HistoryAdmin, LinkFieldsMixin

from ..models import (
    RegressionTest,
    RegressionTestWaiver,
    TestResult,
    TestRun,
    TestRunFile,
)
from ..regression_tests import regression_test_verify_by_hand
from ..waivers import regression_test_waiver_decide


class VerifyByHandForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Logged on each incident's timeline with your name, e.g. "
        "“ran it on the release branch, CI there does not upload”.",
    )


@admin.register(RegressionTest)
class RegressionTestAdmin(HistoryAdmin):
    list_display = ("test_id", "repository", "postmortem", "state", "state_changed_at", "linked_by", "linked_at")
    list_filter = ("state", "repository")
    search_fields = ("test_id", "postmortem__incident__title", "repository__name")
    date_hierarchy = "state_changed_at"
    list_select_related = ("repository", "postmortem__incident", "linked_by")
    raw_id_fields = ("postmortem", "action_item", "state_run")
    readonly_fields = ("state", "state_changed_at", "state_run", "linked_by", "linked_at")
    actions = ["verify_by_hand"]

    @admin.action(description="Mark verified by hand (asks for a reason)")
    def verify_by_hand(self, request, queryset):
        """Intermediate page: the reason, then ``regression_test_verify_by_hand`` for each selected test."""
        form = VerifyByHandForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            changed = 0
            for test in queryset:
                _, did = regression_test_verify_by_hand(
                    regression_test_id=test.pk,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    source=Source.ADMIN,
                )
                changed += did
            unchanged = queryset.count() - changed
            self.message_user(
                request,
                f"{changed} {ngettext('regression test', 'regression tests', changed)} marked verified by hand"
                + (f"; {unchanged} already verified" if unchanged else "")
                + ".",
            )
            return None
        return TemplateResponse(
            request,
            "admin/postmortems/regressiontest/verify_by_hand.html",
            {
                **self.admin_site.each_context(request),
                "title": "Mark regression tests verified by hand",
                "opts": self.model._meta,
                "tests": queryset.select_related("repository", "postmortem__incident"),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


class TestRunFileInline(admin.TabularInline):
    model = TestRunFile
    extra = 0
    fields = ("filename", "producer", "tests", "size_bytes", "sha256", "uploaded_at")
    readonly_fields = fields
    can_delete = False


@admin.register(TestRun)
class TestRunAdmin(LinkFieldsMixin, admin.ModelAdmin):
    list_display = ("repository", "run_key", "branch", "commit", "complete", "created_at", "completed_at")
    list_filter = ("complete", "repository")
    search_fields = ("run_key", "commit", "branch")
    date_hierarchy = "created_at"
    list_select_related = ("repository",)
    inlines = [TestRunFileInline]


@admin.register(TestResult)
class TestResultAdmin(admin.ModelAdmin):
    list_display = ("test_id", "test_run", "outcome", "flaky", "attempts", "duration_seconds")
    list_filter = ("outcome", "flaky", "test_run__repository")
    search_fields = ("test_id",)
    list_select_related = ("test_run__repository",)
    raw_id_fields = ("test_run",)


@admin.register(RegressionTestWaiver)
class RegressionTestWaiverAdmin(admin.ModelAdmin):
    """ "Not testable" requests. The owning team's lead decides from Slack; staff can decide here, for a lead who
    has no Slack (``postmortems.waivers.regression_test_waiver_decide``: once, on the timeline)."""

    list_display = ("postmortem", "status", "reason", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("reason", "postmortem__incident__title")
    list_select_related = ("postmortem__incident", "requested_by", "decided_by")
    readonly_fields = ("postmortem", "status", "reason", "requested_by", "requested_at", "decided_by", "decided_at")
    actions = ["approve", "reject"]

    def has_add_permission(self, request) -> bool:
        return False  # asked by a post-mortem's writer (Slack's Not testable…)

    def _decide(self, request, queryset, *, approve: bool) -> None:
        decided = 0
        for waiver in queryset:
            _, did = regression_test_waiver_decide(
                waiver_id=waiver.pk, approve=approve, actor=request.user, source=Source.ADMIN
            )
            decided += did
        left = queryset.count() - decided
        verb = "approved" if approve else "rejected"
        requests = ngettext("request", "requests", decided)
        self.message_user(request, f"{decided} {requests} {verb}" + (f"; {left} already decided" if left else "") + ".")

    @admin.action(description="Approve: the post-mortem owes no regression test")
    def approve(self, request, queryset) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject: a regression test is owed")
    def reject(self, request, queryset) -> None:
        self._decide(request, queryset, approve=False)
