"""Imports through the API (researchers only).

``POST /api/projects/<slug>/imports/`` uploads a file: imported in the request (201) or, when
larger than ``TIEBREAK_IMPORT_INLINE_MAX_BYTES``, queued for a worker (202, then poll
``GET /api/projects/<slug>/imports/<id>/``). ``GET /api/projects/<slug>/imports/`` lists
the project's imports, newest first.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import ImportRun
from annotation.selectors import project_for_researcher
from annotation.services.imports import (
    FORMAT_CHOICES,
    ImportFailed,
    import_enqueue,
    import_file,
    import_should_queue,
)


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


class ImportRunSerializer(serializers.ModelSerializer):
    errors = ImportProblemSerializer(many=True)
    warnings = ImportProblemSerializer(many=True, help_text="The first 200, then a count.")

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "filename",
            "format",
            "status",
            "created_at",
            "updated_at",
            "n_comparisons_created",
            "n_comparisons_existing",
            "n_judgments_created",
            "n_skipped",
            "errors",
            "warnings",
        ]


class ImportView(ListAPIView):
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ImportRunSerializer

    def get_queryset(self):
        return project_for_researcher(
            slug=self.kwargs["slug"], user=self.request.user
        ).imports.all()

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            201: ImportResultSerializer,
            202: OpenApiResponse(
                ImportRunSerializer, description="Large file queued; poll the run's URL."
            ),
            400: OpenApiResponse(
                ImportErrorsSerializer, description="Nothing written; errors name line and field."
            ),
            403: OpenApiResponse(description="Not a researcher of this project."),
        },
    )
    def post(self, request, slug: str):
        project = project_for_researcher(slug=slug, user=request.user)
        form = ImportInputSerializer(data=request.data)
        if not form.is_valid():
            errors = [
                {"line": None, "field": name, "message": " ".join(str(m) for m in messages)}
                for name, messages in form.errors.items()
            ]
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        upload = form.validated_data["file"]
        if import_should_queue(upload):
            run = import_enqueue(
                project=project,
                upload=upload,
                format=form.validated_data.get("format", "auto"),
                user=request.user,
            )
            run.refresh_from_db()  # eager Celery has imported it already
            headers = {"Location": reverse("api-import", args=[project.slug, run.pk])}
            return Response(
                ImportRunSerializer(run).data, status=status.HTTP_202_ACCEPTED, headers=headers
            )
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


class ImportRunView(APIView):
    @extend_schema(responses={200: ImportRunSerializer})
    def get(self, request, slug: str, run_id: int):
        project = project_for_researcher(slug=slug, user=request.user)
        return Response(ImportRunSerializer(get_object_or_404(project.imports, pk=run_id)).data)
