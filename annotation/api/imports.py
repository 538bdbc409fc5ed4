"""``POST /api/projects/<slug>/imports/``: upload a file of comparisons (researchers only)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import Role
from annotation.selectors import project_for_member, user_roles
from annotation.services.imports import FORMAT_CHOICES, ImportFailed, import_file


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL, JSON, CSV; may be gzip-compressed.")
    format = serializers.ChoiceField(choices=FORMAT_CHOICES, default="auto", required=False)


class ImportProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    record = serializers.IntegerField(required=False, help_text="Index in a JSON array.")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    import_run = serializers.IntegerField()
    format = serializers.CharField()
    n_records = serializers.IntegerField()
    n_comparisons_created = serializers.IntegerField()
    n_comparisons_existing = serializers.IntegerField()
    n_judgments_created = serializers.IntegerField()
    n_judgments_existing = serializers.IntegerField()
    n_skipped = serializers.IntegerField()
    n_warnings = serializers.IntegerField()
    warnings = ImportProblemSerializer(many=True)


class ImportErrorsSerializer(serializers.Serializer):
    import_run = serializers.IntegerField(allow_null=True)
    errors = ImportProblemSerializer(many=True)


class ImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            201: ImportResultSerializer,
            400: OpenApiResponse(
                ImportErrorsSerializer, description="Nothing written; errors name line and field."
            ),
            403: OpenApiResponse(description="Not a researcher of this project."),
        },
    )
    def post(self, request, slug: str):
        project = project_for_member(slug=slug, user=request.user)
        if not request.user.is_staff and Role.RESEARCHER not in user_roles(
            project=project, user=request.user
        ):
            raise PermissionDenied("Only the project's researchers can import.")
        form = ImportInputSerializer(data=request.data)
        if not form.is_valid():
            errors = [
                {"line": None, "field": name, "message": " ".join(str(m) for m in messages)}
                for name, messages in form.errors.items()
            ]
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        upload = form.validated_data["file"]
        try:
            result = import_file(
                project=project,
                path_or_fileobj=upload,
                format=form.validated_data.get("format", "auto"),
                user=request.user,
                filename=upload.name,
            )
        except ImportFailed as exc:
            return Response(
                {
                    "import_run": exc.import_run.pk if exc.import_run else None,
                    "errors": [error.as_dict() for error in exc.errors],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)
