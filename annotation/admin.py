"""Django admin for configuration (rubrics, projects) and read-mostly data browsing.

A rubric that already has judgments is never edited in place: saving it goes through
``rubric_revise``, which stores the edit as a new version and moves the projects to it,
so that old answers keep the meaning they were given under.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from annotation.models import (
    Comparison,
    Criterion,
    CriterionAnswer,
    CriterionKind,
    ImportRun,
    Judgment,
    Membership,
    Project,
    Rubric,
)
from annotation.services.rubrics import rubric_revise, rubric_spec, rubric_spec_check

admin.site.site_header = "tiebreak administration"
admin.site.site_title = "tiebreak admin"
admin.site.index_title = "Configuration and data"
admin.site.site_url = "/"

ADMIN_MEDIA = {"all": ("annotation/admin.css",)}


class _Media:
    css = ADMIN_MEDIA


def _pre(text: str):
    return format_html('<div class="tb-pre">{}</div>', text or "")


# --- Rubrics ------------------------------------------------------------------------------


def _criteria_from_formset(formset) -> list[dict]:
    """The criteria the inline forms describe, in position order, deleted ones left out."""
    rows = []
    for index, form in enumerate(formset.forms):
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE") or not data.get("key"):
            continue
        item = {
            "key": data["key"],
            "label": data.get("label") or "",
            "description": data.get("description") or "",
            "kind": data.get("kind") or CriterionKind.COMPARE,
        }
        if item["kind"] == CriterionKind.RATING:
            item["scale"] = [data.get("scale_min"), data.get("scale_max")]
        rows.append((data.get("position") or 0, index, item))
    return [item for _, _, item in sorted(rows, key=lambda row: (row[0], row[1]))]


class CriterionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            rubric_spec_check(
                {"name": "rubric", "criteria": _criteria_from_formset(self)}, source="rubric"
            )
        except ValidationError as exc:
            raise ValidationError(
                [message.removeprefix("rubric: ") for message in exc.messages]
            ) from None


class CriterionInline(admin.TabularInline):
    model = Criterion
    formset = CriterionFormSet
    extra = 0
    fields = ("position", "key", "label", "kind", "scale_min", "scale_max", "description")
    ordering = ("position", "id")
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})},
    }


@admin.register(Rubric)
class RubricAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "n_criteria", "n_projects", "n_judgments", "updated_at")
    search_fields = ("name",)
    inlines = [CriterionInline]
    fields = ("name", "version", "previous", "description", "versioning_note")
    readonly_fields = ("version", "previous", "versioning_note")
    Media = _Media

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _criteria=Count("criteria", distinct=True),
                _projects=Count("projects", distinct=True),
                _judgments=Count("judgments", distinct=True),
            )
        )

    @admin.display(description="criteria", ordering="_criteria")
    def n_criteria(self, obj):
        return obj._criteria

    @admin.display(description="projects", ordering="_projects")
    def n_projects(self, obj):
        return obj._projects

    @admin.display(description="judgments", ordering="_judgments")
    def n_judgments(self, obj):
        return obj._judgments

    @admin.display(description="Versioning")
    def versioning_note(self, obj):
        if obj is None or obj.pk is None or not obj.has_judgments():
            return "No judgments use this version yet: saving edits it in place."
        return (
            f"{obj.judgments.count()} judgments were answered under this version. "
            "Saving your edits creates a new version and moves this rubric's projects to "
            "it; the existing judgments keep this one."
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk and obj.has_judgments():
            fields.append("name")  # versions share the name; rubric_revise keeps it
        return fields

    def _revising(self, request) -> bool:
        return getattr(request, "_tiebreak_revise", False)

    def save_model(self, request, obj, form, change):
        if change and Rubric.objects.get(pk=obj.pk).has_judgments():
            # Not in place: save_related writes the edit as a new version.
            request._tiebreak_revise = True
            return
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not self._revising(request):
            super().save_related(request, form, formsets, change)
            return
        original = Rubric.objects.get(pk=form.instance.pk)
        inline = next(fs for fs in formsets if fs.model is Criterion)
        spec = {
            "name": original.name,
            "description": form.cleaned_data.get("description", ""),
            "criteria": _criteria_from_formset(inline),
        }
        if rubric_spec_check(spec) == rubric_spec_check(rubric_spec(original)):
            request._tiebreak_revised = None
            return
        request._tiebreak_revised = rubric_revise(rubric=original, spec=spec)

    def construct_change_message(self, request, form, formsets, add=False):
        if not self._revising(request):
            return super().construct_change_message(request, form, formsets, add)
        new = getattr(request, "_tiebreak_revised", None)
        # The inline formsets were never saved, so there is nothing for Django to list.
        return f"Saved as version {new.version} (#{new.pk})." if new else "No changes."

    def response_change(self, request, obj):
        if not self._revising(request):
            return super().response_change(request, obj)
        new = getattr(request, "_tiebreak_revised", None)
        if new is None:
            self.message_user(request, "Nothing changed; no new version was saved.", messages.INFO)
            target = obj
        else:
            self.message_user(
                request,
                f"Saved as version {new.version} of “{new.name}”. Projects that used version "
                f"{obj.version} now use version {new.version}; existing judgments keep "
                f"version {obj.version}.",
                messages.SUCCESS,
            )
            target = new
        return HttpResponseRedirect(reverse("admin:annotation_rubric_change", args=[target.pk]))


# --- Projects -----------------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    fields = ("user", "role")
    autocomplete_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "rubric", "overlap", "n_comparisons", "updated_at")
    list_select_related = ("rubric",)
    search_fields = ("slug", "name")
    prepopulated_fields = {"slug": ("name",)}
    fields = (
        "name",
        "slug",
        "rubric",
        "overlap",
        "reservation_minutes",
        "time_zone",
        "guidelines",
    )
    inlines = [MembershipInline]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 14, "class": "tb-markdown"})},
    }
    Media = _Media

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_comparisons=Count("comparisons"))

    @admin.display(description="comparisons", ordering="_comparisons")
    def n_comparisons(self, obj):
        return obj._comparisons

    def view_on_site(self, obj):
        return reverse("dashboard", args=[obj.slug])

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A new project gets its weekly report schedule; a changed time zone moves it.
        # Imported here: analysis builds on annotation.
        from analysis.services.weekly_reports import report_schedule_ensure

        report_schedule_ensure(project=obj)


# --- Data (read-mostly) -------------------------------------------------------------------


class ReadOnlyMixin:
    """Browse and filter; rows are created by imports and annotators, not by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Comparison)
class ComparisonAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("external_id", "project", "prompt_preview", "n_judgments", "n_reserved")
    list_filter = ("project",)
    list_select_related = ("project", "prompt")
    search_fields = ("external_id", "response_a__model", "response_b__model")
    fields = (
        "project",
        "external_id",
        "transcript",
        "response_a_text",
        "response_b_text",
        "metadata",
        "n_judgments",
        "n_reserved",
        "created_at",
    )
    readonly_fields = fields
    Media = _Media

    @admin.display(description="prompt")
    def prompt_preview(self, obj):
        text = obj.prompt.text
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="prompt")
    def transcript(self, obj):
        return format_html_join(
            "",
            '<div class="tb-turn"><strong>{}</strong><div class="tb-pre">{}</div></div>',
            (
                (str(m.get("role", "")), str(m.get("content", "")))
                for m in obj.prompt.messages
                if isinstance(m, dict)
            ),
        )

    @admin.display(description="response a")
    def response_a_text(self, obj):
        return format_html(
            '<p class="tb-model">{}</p>{}', obj.response_a.model, _pre(obj.response_a.text)
        )

    @admin.display(description="response b")
    def response_b_text(self, obj):
        return format_html(
            '<p class="tb-model">{}</p>{}', obj.response_b.model, _pre(obj.response_b.text)
        )


class CriterionAnswerInline(admin.TabularInline):
    model = CriterionAnswer
    extra = 0
    can_delete = False
    fields = ("criterion", "choice", "score_a", "score_b")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Judgment)
class JudgmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "comparison",
        "annotator_name",
        "choice",
        "strength",
        "shown_left",
        "seconds",
        "source",
        "created_at",
    )
    list_filter = ("comparison__project", "source", "choice", "strength", "shown_left", "rubric")
    list_select_related = ("comparison__project", "annotator")
    search_fields = (
        "comparison__external_id",
        "annotator__username",
        "external_annotator",
        "idempotency_key",
    )
    date_hierarchy = "created_at"
    inlines = [CriterionAnswerInline]
    readonly_fields = (
        "comparison",
        "assignment",
        "annotator",
        "external_annotator",
        "rubric",
        "choice",
        "strength",
        "rationale",
        "shown_left",
        "seconds",
        "source",
        "idempotency_key",
        "created_at",
    )
    fields = readonly_fields
    Media = _Media

    @admin.display(description="annotator")
    def annotator_name(self, obj):
        return obj.annotator_name


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "project",
        "filename",
        "format",
        "status",
        "n_comparisons_created",
        "n_comparisons_existing",
        "n_judgments_created",
        "n_skipped",
        "user",
    )
    list_filter = ("project", "status", "format")
    list_select_related = ("project", "user")
    search_fields = ("filename",)
    Media = _Media
