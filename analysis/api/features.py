"""API endpoint for feature-extraction progress."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.features.registry import active_registry
from analysis.selectors import feature_progress
from annotation.models import Role
from annotation.selectors import project_for_member, user_roles


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
        # Members who are not researchers get 403; everyone else 404 (project_for_member),
        # so the URL reveals nothing about projects a user cannot see.
        project = project_for_member(slug=slug, user=request.user)
        if not request.user.is_staff and Role.RESEARCHER not in user_roles(
            project=project, user=request.user
        ):
            raise PermissionDenied("Feature progress is for the project's researchers.")
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
