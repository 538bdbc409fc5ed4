"""Serializers for the annotation API (output shapes and the OpenAPI schema)."""

from __future__ import annotations

from rest_framework import serializers

from annotation.models import Assignment, CriterionKind, Judgment, Project
from annotation.services.judgments import to_display


class CriterionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=CriterionKind.choices)
    scale = serializers.SerializerMethodField()

    def get_scale(self, criterion) -> list[int] | None:
        if criterion.kind == CriterionKind.RATING:
            return [criterion.scale_min, criterion.scale_max]
        return None


class ProjectSerializer(serializers.ModelSerializer):
    rubric = serializers.CharField(source="rubric.__str__")
    criteria = CriterionSerializer(source="rubric.criteria.all", many=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["slug", "name", "guidelines", "overlap", "rubric", "criteria", "roles"]

    def get_roles(self, project) -> list[str]:
        user = self.context["request"].user
        return sorted({m.role for m in project.memberships.all() if m.user_id == user.pk})


class MessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField()


class ShownResponseSerializer(serializers.Serializer):
    """A response as an annotator sees it: text only, never the model name."""

    text = serializers.CharField()


class AssignmentSerializer(serializers.Serializer):
    assignment = serializers.IntegerField(source="pk")
    project = serializers.CharField(source="comparison.project.slug")
    expires_at = serializers.DateTimeField()
    prompt = MessageSerializer(source="comparison.prompt.messages", many=True)
    left = serializers.SerializerMethodField()
    right = serializers.SerializerMethodField()
    criteria = CriterionSerializer(source="comparison.project.rubric.criteria.all", many=True)

    def get_left(self, assignment: Assignment) -> dict:
        return {"text": assignment.response_on("left").text}

    def get_right(self, assignment: Assignment) -> dict:
        return {"text": assignment.response_on("right").text}


class JudgmentInputSerializer(serializers.Serializer):
    """The request body; validation happens in ``annotation.services.judgments``."""

    choice = serializers.ChoiceField(choices=["left", "right", "tie"])
    strength = serializers.IntegerField(min_value=1, max_value=3, required=False, allow_null=True)
    criteria = serializers.DictField(
        required=False,
        help_text='{"<key>": "left"|"right"|"tie"} or {"<key>": {"left": n, "right": m}}',
    )
    rationale = serializers.CharField(required=False, allow_blank=True)
    seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)


class JudgmentSerializer(serializers.ModelSerializer):
    """A stored judgment, in the annotator's display terms and in canonical terms."""

    assignment = serializers.IntegerField(source="assignment_id")
    display_choice = serializers.SerializerMethodField()
    criteria = serializers.SerializerMethodField()

    class Meta:
        model = Judgment
        fields = [
            "id",
            "assignment",
            "choice",
            "display_choice",
            "strength",
            "criteria",
            "rationale",
            "shown_left",
            "seconds",
            "created_at",
        ]

    def get_display_choice(self, judgment) -> str:
        return to_display(judgment.choice, judgment.shown_left)

    def get_criteria(self, judgment) -> dict:
        out = {}
        for answer in judgment.answers.select_related("criterion"):
            if answer.choice:
                out[answer.criterion.key] = answer.choice
            else:
                out[answer.criterion.key] = {"a": answer.score_a, "b": answer.score_b}
        return out


class ProgressSerializer(serializers.Serializer):
    project = serializers.CharField()
    overlap = serializers.IntegerField()
    comparisons = serializers.IntegerField()
    complete = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    waiting = serializers.IntegerField()
    judgments = serializers.IntegerField()
    imported_judgments = serializers.IntegerField()
    per_annotator = serializers.ListField(child=serializers.DictField())
