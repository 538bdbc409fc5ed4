"""API endpoints for analysis runs: start one, list a project's runs, read one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.models import AnalysisRun
from analysis.services.runs import CORRECTIONS, analysis_run_enqueue
from analysis.stats.analyze import SECTIONS
from annotation.models import Role
from annotation.selectors import project_for_member


class AnalysisParamsSerializer(serializers.Serializer):
    """Optional parameters of a run; see docs/analysis.md. Validated by the run service."""

    alpha = serializers.FloatField(required=False, help_text="Intervals are 1 - alpha.")
    correction = serializers.ChoiceField(choices=CORRECTIONS, required=False)
    features = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Style features; default: TIEBREAK_ANALYSIS_FEATURES (one per concept); "
        '["all"] for every feature.',
    )
    seed = serializers.IntegerField(required=False)
    cv_splits = serializers.IntegerField(required=False)
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=SECTIONS), required=False
    )
    missing_features = serializers.ChoiceField(choices=["error", "compute"], required=False)


class AnalysisRunSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "project",
            "status",
            "requested_by",
            "params",
            "error",
            "created_at",
            "finished_at",
            "url",
            "page",
        ]

    def get_url(self, run: AnalysisRun) -> str:
        return reverse("api-analysis-detail", args=[run.pk])

    def get_page(self, run: AnalysisRun) -> str:
        return reverse("analysis-run-page", args=[run.project.slug, run.pk])


class AnalysisRunDetailSerializer(AnalysisRunSerializer):
    result = serializers.JSONField(
        read_only=True, help_text="AnalysisResult.to_dict(); null until the run succeeded."
    )

    class Meta(AnalysisRunSerializer.Meta):
        fields = [*AnalysisRunSerializer.Meta.fields, "result"]


class ProjectAnalysesView(APIView):
    """A project's analysis runs (researchers of the project only; 404 for anyone else)."""

    @extend_schema(
        responses={
            200: AnalysisRunSerializer(many=True),
            404: OpenApiResponse(description="No such project, or not one of its researchers."),
        }
    )
    def get(self, request, slug: str):
        project = project_for_member(slug=slug, user=request.user, role=Role.RESEARCHER)
        runs = project.analysis_runs.select_related("project", "requested_by").order_by(
            "-created_at", "-pk"
        )
        return Response(AnalysisRunSerializer(runs, many=True).data)

    @extend_schema(
        request=AnalysisParamsSerializer,
        responses={
            202: AnalysisRunSerializer,
            400: OpenApiResponse(description="Invalid parameters, by field."),
            404: OpenApiResponse(description="No such project, or not one of its researchers."),
        },
    )
    def post(self, request, slug: str):
        """Start an analysis of the project as it is now; 202 with the run.

        The run executes in a Celery task after this request commits. With eager Celery
        (no broker configured) it has finished by the time the response is sent; otherwise
        poll the run's ``url`` until ``status`` is ``succeeded`` or ``failed``.
        """
        project = project_for_member(slug=slug, user=request.user, role=Role.RESEARCHER)
        params = AnalysisParamsSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            run = analysis_run_enqueue(
                project=project, user=request.user, params=dict(params.validated_data)
            )
        except ValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(AnalysisRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AnalysisRunDetailView(APIView):
    """One analysis run with its result (researchers of its project only; 404 otherwise)."""

    @extend_schema(
        responses={
            200: AnalysisRunDetailSerializer,
            404: OpenApiResponse(description="No such run, or not a researcher of its project."),
        }
    )
    def get(self, request, run_id: int):
        run = (
            AnalysisRun.objects.select_related("project", "requested_by").filter(pk=run_id).first()
        )
        if run is None:
            raise Http404("No such analysis.")
        project_for_member(slug=run.project.slug, user=request.user, role=Role.RESEARCHER)
        return Response(AnalysisRunDetailSerializer(run).data)
