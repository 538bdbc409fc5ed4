"""Stored style features, feature-extraction jobs and analysis runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models import Project, Response, TimeStamped


class FeatureValue(models.Model):
    """The columns one extractor version computed for one response.

    Keyed by (response, extractor, version) so that bumping an extractor's version adds
    rows instead of overwriting the numbers old analyses were computed from.
    """

    # No index of its own: feature_value_unique starts with response_id and serves every
    # lookup by response; a second index would cost ~15% of each chunk's insert time.
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="features", db_index=False
    )
    extractor = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    values = models.JSONField(help_text='{"<column>": float}; single-column extractors use "".')

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "extractor", "version"], name="feature_value_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.extractor} v{self.version} of response {self.response_id}"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class FeatureJob(TimeStamped):
    """One fan-out of a project's responses into extraction chunks."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="feature_jobs")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    force = models.BooleanField(default=False)
    extractors = models.JSONField(default=list, help_text="[[name, version], ...] at fan-out.")
    total = models.PositiveIntegerField(default=0, help_text="Responses to process.")
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"feature job {self.pk} for {self.project_id} ({self.status})"


class FeatureChunk(models.Model):
    """A contiguous id range of a project's responses; ``done`` is set once, idempotently."""

    job = models.ForeignKey(FeatureJob, on_delete=models.CASCADE, related_name="chunks")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    size = models.PositiveIntegerField()
    done = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "first_id"], name="feature_chunk_unique"),
            models.CheckConstraint(
                condition=Q(first_id__lte=models.F("last_id")), name="feature_chunk_range"
            ),
        ]

    def __str__(self) -> str:
        return f"chunk {self.first_id}-{self.last_id} of job {self.job_id}"


class AnalysisRun(TimeStamped):
    """One bias analysis of a project: its parameters, JSON result and rendered HTML."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="analysis_runs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    html = models.TextField(blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"analysis {self.pk} of {self.project_id} ({self.status})"


class ExportKind(models.TextChoices):
    JUDGMENTS = "judgments", "Judgments (one row per judgment)"
    PREFERENCES = "preferences", "Preferences (one row per comparison)"
    DPO = "dpo", "DPO pairs (prompt, chosen, rejected)"


class ExportFormat(models.TextChoices):
    JSONL = "jsonl", "JSON Lines"
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class ExportSnapshot(TimeStamped):
    """One export: what was asked for, the data it covers, and a fingerprint of the file.

    ``max_judgment_id`` / ``max_comparison_id``, ``extractors``, ``criteria`` and
    ``style_features`` pin the data and the columns at the moment of the export, so
    exporting the same snapshot again (rows unchanged) gives byte-identical output whose
    sha256 equals ``sha256``. ``file`` holds the output of exports made from the site or
    the API, for download.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=12, choices=ExportKind.choices)
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    max_judgment_id = models.BigIntegerField(default=0)
    max_comparison_id = models.BigIntegerField(default=0)
    extractors = models.JSONField(
        default=list, help_text="[[name, version, [columns]], ...] exported."
    )
    criteria = models.JSONField(
        default=list, help_text="[[key, kind], ...]: the rubric's criteria, exported."
    )
    style_features = models.JSONField(
        default=list, help_text="Features whose sign vote names the style-heavier response."
    )
    total = models.PositiveIntegerField(default=0, help_text="Comparisons to go through.")
    done = models.PositiveIntegerField(default=0, help_text="Comparisons gone through.")
    row_count = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="exports/%Y/%m/", max_length=500, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.project_id}: {self.kind}.{self.format}"


class Report(TimeStamped):
    """The weekly bias report of one project for one ISO week (in the project's time zone).

    ``result`` holds the figures (the week's analysis, the trend over earlier weeks and the
    headline) and ``html`` the self-contained document that is shown and emailed.
    Generating a week again replaces its row.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    week = models.CharField(max_length=8, help_text='ISO week, e.g. "2026-W47".')
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(help_text="Exclusive.")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    n_judgments = models.PositiveIntegerField(default=0)
    headline = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    html = models.TextField(blank=True)
    error = models.TextField(blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["project", "week"], name="report_once_per_week"),
        ]

    def __str__(self) -> str:
        return f"report {self.week} of {self.project_id} ({self.status})"
