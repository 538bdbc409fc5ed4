"""The annotation domain: projects, rubrics, prompts, responses, comparisons, judgments.

Invariants that matter are database constraints, not only form validation: one judgment
per (comparison, annotator), one assignment per (comparison, annotator), choices and
strengths in range, rating scores inside the criterion's scale.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q


def validate_time_zone(value: str) -> None:
    """Accept only IANA time zone names that this machine's tz database knows."""
    try:
        zoneinfo.ZoneInfo(value)  # cached; available_timezones() reads the whole database
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin)"
        ) from None


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Side(models.TextChoices):
    """A response in canonical terms."""

    A = "a", "Response a"
    B = "b", "Response b"


class Choice(models.TextChoices):
    """An answer in canonical terms: a, b, or a tie."""

    A = "a", "a is better"
    B = "b", "b is better"
    TIE = "tie", "Tie"


class Rubric(TimeStamped):
    """A versioned set of criteria. Old versions stay, so old judgments keep their meaning."""

    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    previous = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_version",
        help_text="The version this one replaced.",
    )

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="rubric_name_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="rubric_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def has_judgments(self) -> bool:
        return self.judgments.exists()


class CriterionKind(models.TextChoices):
    COMPARE = "compare", "Compare (a / b / tie)"
    RATING = "rating", "Rating (a score per response)"


class Criterion(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=CriterionKind.choices)
    scale_min = models.IntegerField(null=True, blank=True)
    scale_max = models.IntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["rubric", "position", "id"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(fields=["rubric", "key"], name="criterion_key_unique"),
            models.CheckConstraint(
                condition=(
                    Q(kind="compare", scale_min__isnull=True, scale_max__isnull=True)
                    | Q(
                        kind="rating",
                        scale_min__isnull=False,
                        scale_max__isnull=False,
                        scale_min__lt=F("scale_max"),
                    )
                ),
                name="criterion_scale_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rubric}: {self.key}"


class Project(TimeStamped):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    guidelines = models.TextField(blank=True, help_text="Markdown shown to annotators.")
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="projects")
    overlap = models.PositiveIntegerField(
        default=1, help_text="How many different annotators judge each comparison."
    )
    reservation_minutes = models.PositiveIntegerField(
        default=30, help_text="How long an annotator holds a comparison before it returns."
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA time zone (e.g. Europe/Berlin) of the project's weeks and reports.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_positive"),
            models.CheckConstraint(
                condition=Q(reservation_minutes__gte=1), name="project_reservation_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    RESEARCHER = "researcher", "Researcher"


class Membership(TimeStamped):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=12, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class Prompt(TimeStamped):
    """A prompt: always stored as role/content messages; a plain string is one user turn."""

    # The (project, …) index or unique constraint below serves lookups by project; a
    # separate index on project alone would only slow imports down.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="prompts", db_index=False
    )
    messages = models.JSONField(help_text='[{"role": "user", "content": "..."}, ...]')
    is_conversation = models.BooleanField(
        default=False, help_text="False when imported as a single string."
    )
    content_hash = models.CharField(max_length=64, help_text="sha256 of the messages (dedupe).")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "content_hash"], name="prompt_unique_per_project"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def text(self) -> str:
        """The last user turn (the prompt as a single string for display in lists)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message.get("content", "")
        return self.messages[-1].get("content", "") if self.messages else ""


class Response(TimeStamped):
    """One model response. Each comparison owns its two responses (no cross-pair dedupe)."""

    # The (project, …) index or unique constraint below serves lookups by project; a
    # separate index on project alone would only slow imports down.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="responses", db_index=False
    )
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="responses")
    text = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "id"], name="response_project_id")]

    def __str__(self) -> str:
        return f"{self.model or 'response'} #{self.pk}"


class Comparison(TimeStamped):
    """A prompt with two responses in canonical order a, b.

    ``n_judgments`` and ``n_reserved`` are maintained by the assignment services inside
    the transaction that changes them; keeping them on this row is what lets PostgreSQL
    re-check capacity on the locked row itself under concurrency.
    """

    # The (project, …) index or unique constraint below serves lookups by project; a
    # separate index on project alone would only slow imports down.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="comparisons", db_index=False
    )
    external_id = models.CharField(max_length=200)
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="comparisons")
    response_a = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="as_a")
    response_b = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="as_b")
    metadata = models.JSONField(default=dict, blank=True)
    n_judgments = models.PositiveIntegerField(default=0)
    n_reserved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], name="comparison_external_id_unique"
            ),
            models.CheckConstraint(
                condition=~Q(response_a=F("response_b")), name="comparison_distinct_responses"
            ),
        ]
        indexes = [models.Index(fields=["project", "id"], name="comparison_project_id")]

    def __str__(self) -> str:
        return f"{self.project.slug}/{self.external_id}"


class AssignmentStatus(models.TextChoices):
    RESERVED = "reserved", "Reserved"
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"
    EXPIRED = "expired", "Expired"


class Assignment(TimeStamped):
    """One annotator's reservation of one comparison, with the randomised display order."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    shown_left = models.CharField(max_length=1, choices=Side.choices)
    status = models.CharField(
        max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.RESERVED
    )
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "annotator"], name="assignment_once_per_annotator"
            ),
            models.CheckConstraint(
                condition=Q(shown_left__in=["a", "b"]), name="assignment_shown_left_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["annotator", "status"], name="assignment_annotator_status"),
            models.Index(fields=["status", "expires_at"], name="assignment_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk} ({self.annotator} on {self.comparison_id})"

    @property
    def project(self) -> Project:
        return self.comparison.project

    def response_on(self, side: str) -> Response:
        """The response displayed on ``side`` ("left" or "right")."""
        left_is_a = self.shown_left == Side.A
        if side == "left":
            return self.comparison.response_a if left_is_a else self.comparison.response_b
        return self.comparison.response_b if left_is_a else self.comparison.response_a


class JudgmentSource(models.TextChoices):
    UI = "ui", "Web UI"
    API = "api", "API"
    IMPORT = "import", "Imported"


class Judgment(models.Model):
    """An overall choice in canonical terms, with per-criterion answers.

    Judged either by a member (``annotator``) or, for imported data, by an external
    annotator identified by ``external_annotator``.
    """

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="judgments")
    assignment = models.OneToOneField(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="judgment"
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="judgments",
    )
    external_annotator = models.CharField(max_length=200, blank=True)
    rubric = models.ForeignKey(
        Rubric,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="judgments",
        help_text="The rubric version the criteria were answered under.",
    )
    choice = models.CharField(max_length=3, choices=Choice.choices)
    strength = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 slightly, 2 clearly, 3 much better; empty for a tie."
    )
    rationale = models.TextField(blank=True)
    shown_left = models.CharField(max_length=1, choices=Side.choices, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=6, choices=JudgmentSource.choices)
    idempotency_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "annotator"],
                condition=Q(annotator__isnull=False),
                name="judgment_once_per_annotator",
            ),
            models.UniqueConstraint(
                fields=["comparison", "external_annotator"],
                condition=~Q(external_annotator=""),
                name="judgment_once_per_external_annotator",
            ),
            models.UniqueConstraint(
                fields=["annotator", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="judgment_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(annotator__isnull=False) | ~Q(external_annotator=""),
                name="judgment_has_annotator",
            ),
            models.CheckConstraint(
                condition=Q(choice__in=["a", "b", "tie"]), name="judgment_choice_valid"
            ),
            models.CheckConstraint(
                condition=Q(strength__isnull=True) | Q(strength__gte=1, strength__lte=3),
                name="judgment_strength_in_range",
            ),
            models.CheckConstraint(
                condition=Q(shown_left__in=["a", "b", ""]), name="judgment_shown_left_valid"
            ),
            models.CheckConstraint(
                condition=Q(seconds__isnull=True) | Q(seconds__gte=0),
                name="judgment_seconds_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"judgment {self.pk}: {self.choice} on {self.comparison_id}"

    @property
    def annotator_name(self) -> str:
        return self.annotator.get_username() if self.annotator_id else self.external_annotator


class CriterionAnswer(models.Model):
    """One criterion's answer within a judgment, in canonical terms.

    The criterion's scale is copied onto the row so that a CHECK constraint can hold the
    scores inside it (a constraint cannot look across tables).
    """

    judgment = models.ForeignKey(Judgment, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="answers")
    choice = models.CharField(max_length=3, choices=Choice.choices, blank=True)
    score_a = models.IntegerField(null=True, blank=True)
    score_b = models.IntegerField(null=True, blank=True)
    scale_min = models.IntegerField(null=True, blank=True)
    scale_max = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["judgment", "criterion"], name="answer_once"),
            models.CheckConstraint(
                condition=(
                    Q(choice__in=["a", "b", "tie"], score_a__isnull=True, score_b__isnull=True)
                    | Q(
                        choice="",
                        score_a__isnull=False,
                        score_b__isnull=False,
                        scale_min__isnull=False,
                        scale_max__isnull=False,
                        score_a__gte=F("scale_min"),
                        score_a__lte=F("scale_max"),
                        score_b__gte=F("scale_min"),
                        score_b__lte=F("scale_max"),
                    )
                ),
                name="answer_choice_or_scores_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.key}: {self.choice or (self.score_a, self.score_b)}"


class ImportRun(TimeStamped):
    """A record of one import: who, what file, how many rows, and the outcome.

    An import run in the request or command is recorded once it has finished. A large
    upload is stored in ``upload`` and recorded as ``queued``; the ``run_import`` task
    takes it to ``running`` and then ``succeeded`` or ``failed``, and deletes the file.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="imports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    filename = models.CharField(max_length=500)
    format = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices)
    n_comparisons_created = models.PositiveIntegerField(default=0)
    n_comparisons_existing = models.PositiveIntegerField(default=0)
    n_judgments_created = models.PositiveIntegerField(default=0)
    n_skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # A queued upload, until its import has finished.
    upload = models.FileField(upload_to="imports/%Y/%m/", max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.filename} into {self.project_id}: {self.status}"
