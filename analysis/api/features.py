"""API endpoint for feature-extraction progress."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.features.registry import active_registry
from analysis.selectors import feature_progress
from annotation.selectors import project_for_researcher


class ExtractorSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()


class FeatureProgressSerializer(serializers.Serializer):
    job_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    extractors = ExtractorSerializer(many=True)


class FeatureProgressView(APIView):
    """Progress of the project's latest feature-extraction job (researchers only)."""

    @extend_schema(
        responses={
            200: FeatureProgressSerializer,
            403: OpenApiResponse(description="A member of the project, but not a researcher."),
            404: OpenApiResponse(description="No such project, or not a member of it."),
        }
    )
    def get(self, request, slug: str):
        project = project_for_researcher(slug=slug, user=request.user)
        progress = feature_progress(project=project)
        if progress is None:
            progress = {
                "job_id": None,
                "status": None,
                "done": 0,
                "total": 0,
                "extractors": [{"name": e.name, "version": e.version} for e in active_registry()],
            }
        return Response(FeatureProgressSerializer(progress).data)
