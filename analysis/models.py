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
