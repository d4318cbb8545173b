"""Read-only admin of the /metrics histogram ledger and series (written only by ``reports.histograms``)."""

from django.contrib import admin

from .models import HistogramSeries, ObservedDuration


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ObservedDuration)
class ObservedDurationAdmin(ReadOnly):
    list_display = ("metric", "label", "subject_id", "seconds", "observed_at")
    list_filter = ("metric", "label")
    search_fields = ("subject_id",)


@admin.register(HistogramSeries)
class HistogramSeriesAdmin(ReadOnly):
    list_display = ("metric", "label", "count", "sum_seconds")
    list_filter = ("metric",)
