"""The Django admin for what analysis records: exports and weekly reports (read-only)."""

from django.contrib import admin

from analysis.models import ExportSnapshot, Report
from annotation.admin import ReadOnlyMixin


@admin.register(ExportSnapshot)
class ExportSnapshotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "project", "kind", "format", "status", "row_count", "created_by")
    list_filter = ("project", "kind", "format", "status")
    list_select_related = ("project", "created_by")
    exclude = ("file",)


@admin.register(Report)
class ReportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("week", "project", "status", "n_judgments", "emailed_at")
    list_filter = ("project", "status")
    list_select_related = ("project",)
    exclude = ("html", "result")
