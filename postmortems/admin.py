from django.contrib import admin

from .models import (
    ActionItem,
    Heartbeat,
    PostMortem,
    RegressionTest,
    Reminder,
    ReminderDelivery,
    TestResult,
    TestRun,
    TestRunFile,
)


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0
    fields = ("title", "kind", "priority", "owner", "due_date", "status", "tracker_url")


class RegressionTestInline(admin.TabularInline):
    model = RegressionTest
    extra = 0
    fields = ("repository", "test_id", "change_url", "state", "state_changed_at")
    readonly_fields = ("state", "state_changed_at")


@admin.register(PostMortem)
class PostMortemAdmin(admin.ModelAdmin):
    list_display = ("incident", "status", "owner", "due_at", "published_at")
    list_filter = ("status",)
    search_fields = ("incident__title", "summary", "root_cause")
    date_hierarchy = "due_at"
    list_select_related = ("incident", "owner")
    inlines = [ActionItemInline, RegressionTestInline]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ("title", "postmortem", "kind", "priority", "owner", "due_date", "status")
    list_filter = ("kind", "priority", "status")
    search_fields = ("title", "description")
    list_select_related = ("postmortem__incident", "owner")


@admin.register(RegressionTest)
class RegressionTestAdmin(admin.ModelAdmin):
    list_display = ("test_id", "repository", "postmortem", "state", "state_changed_at")
    list_filter = ("state", "repository")
    search_fields = ("test_id",)
    list_select_related = ("repository", "postmortem__incident")


class ReminderDeliveryInline(admin.TabularInline):
    model = ReminderDelivery
    extra = 0
    fields = ("channel", "address", "status", "attempts", "sent_at", "last_error")
    readonly_fields = fields
    can_delete = False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("postmortem", "kind", "cycle", "step", "due_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("postmortem__incident__title",)
    date_hierarchy = "due_at"
    list_select_related = ("postmortem__incident",)
    inlines = [ReminderDeliveryInline]


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(admin.ModelAdmin):
    list_display = ("reminder", "channel", "address", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "channel")
    search_fields = ("address", "last_error")
    list_select_related = ("reminder__postmortem__incident",)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "last_success_at")


class TestRunFileInline(admin.TabularInline):
    model = TestRunFile
    extra = 0
    fields = ("filename", "producer", "tests", "size_bytes", "uploaded_at")
    readonly_fields = fields
    can_delete = False


@admin.register(TestRun)
class TestRunAdmin(admin.ModelAdmin):
    list_display = ("repository", "run_key", "branch", "commit", "complete", "created_at")
    list_filter = ("complete", "repository")
    search_fields = ("run_key", "commit", "branch")
    date_hierarchy = "created_at"
    list_select_related = ("repository",)
    inlines = [TestRunFileInline]


@admin.register(TestResult)
class TestResultAdmin(admin.ModelAdmin):
    list_display = ("test_id", "test_run", "outcome", "flaky", "attempts", "duration_seconds")
    list_filter = ("outcome", "flaky")
    search_fields = ("test_id",)
    list_select_related = ("test_run__repository",)
