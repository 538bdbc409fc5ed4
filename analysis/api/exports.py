"""API endpoints for dataset exports: start one, list a project's exports, read one, download."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.models import ExportFormat, ExportKind, ExportSnapshot, JobStatus
from analysis.selectors import export_for_researcher
from analysis.services.exports import FORMS, export_snapshot_enqueue
from analysis.web_exports import CONTENT_TYPES, export_file_response
from annotation.selectors import project_for_researcher

_NOT_RESEARCHER = {
    403: OpenApiResponse(description="A member of the project who is not a researcher."),
    404: OpenApiResponse(description="No such project (or export), or not a member."),
}


class ExportRequestSerializer(serializers.Serializer):
    """What to export; see docs/exports.md. The options are checked again by the service."""

    kind = serializers.ChoiceField(choices=ExportKind.choices)
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    min_agreement = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="Keep comparisons whose top answer has at least this share of the votes.",
    )
    drop_ties = serializers.BooleanField(
        required=False, help_text="Leave out comparisons where tie has the most votes."
    )
    exclude_style_decided = serializers.BooleanField(
        required=False,
        help_text="Leave out comparisons whose majority is the style-heavier response while "
        "the rubric is tied.",
    )
    form = serializers.ChoiceField(
        choices=FORMS,
        required=False,
        help_text="dpo only: standard (strings), conversational (message lists) or auto.",
    )


class ExportSnapshotSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    percent = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = ExportSnapshot
        fields = [
            "id",
            "project",
            "kind",
            "format",
            "options",
            "status",
            "created_by",
            "created_at",
            "finished_at",
            "done",
            "total",
            "percent",
            "row_count",
            "sha256",
            "size",
            "error",
            "max_judgment_id",
            "max_comparison_id",
            "extractors",
            "url",
            "download",
        ]

    def get_percent(self, snapshot: ExportSnapshot) -> float:
        """Comparisons gone through, in percent (100 for an export with nothing to do)."""
        if snapshot.status == JobStatus.SUCCEEDED or not snapshot.total:
            return 100.0 if snapshot.status == JobStatus.SUCCEEDED else 0.0
        return round(100.0 * snapshot.done / snapshot.total, 1)

    def get_url(self, snapshot: ExportSnapshot) -> str:
        return reverse("api-export-detail", args=[snapshot.project.slug, snapshot.pk])

    def get_download(self, snapshot: ExportSnapshot) -> str | None:
        """Where to fetch the file; null until it exists."""
        if snapshot.status != JobStatus.SUCCEEDED or not snapshot.file:
            return None
        return reverse("api-export-download", args=[snapshot.project.slug, snapshot.pk])


class ProjectExportsView(APIView):
    """A project's exports (its researchers only)."""

    @extend_schema(responses={200: ExportSnapshotSerializer(many=True), **_NOT_RESEARCHER})
    def get(self, request, slug: str):
        project = project_for_researcher(slug=slug, user=request.user)
        snapshots = project.exports.select_related("project", "created_by").order_by(
            "-created_at", "-pk"
        )
        return Response(ExportSnapshotSerializer(snapshots, many=True).data)

    @extend_schema(
        request=ExportRequestSerializer,
        responses={
            201: ExportSnapshotSerializer,
            202: ExportSnapshotSerializer,
            400: OpenApiResponse(description="Invalid request, by field."),
            409: OpenApiResponse(
                ExportSnapshotSerializer,
                description="The export failed (e.g. style features not extracted yet); "
                "its error says why.",
            ),
            **_NOT_RESEARCHER,
        },
    )
    def post(self, request, slug: str):
        """Export the project as it is now.

        An export of up to ``TIEBREAK_EXPORT_INLINE_MAX_ROWS`` judgments is written during
        the request: 201 with the finished export. A larger one is written by a Celery
        task: 202 with ``Location`` set to the export, whose ``done``/``total`` show the
        progress until ``status`` is ``succeeded`` (then ``download`` is its file) or
        ``failed``.
        """
        project = project_for_researcher(slug=slug, user=request.user)
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        kind, fmt = fields.pop("kind"), fields.pop("format")
        try:
            snapshot = export_snapshot_enqueue(
                project=project, kind=kind, format=fmt, options=fields, user=request.user
            )
        except ValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        body = ExportSnapshotSerializer(snapshot).data
        if snapshot.status == JobStatus.SUCCEEDED:
            return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})
        if snapshot.status == JobStatus.FAILED:
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class ExportDetailView(APIView):
    """One export with its progress (the project's researchers only)."""

    @extend_schema(responses={200: ExportSnapshotSerializer, **_NOT_RESEARCHER})
    def get(self, request, slug: str, export_id: int):
        snapshot = export_for_researcher(slug=slug, user=request.user, export_id=export_id)
        return Response(ExportSnapshotSerializer(snapshot).data)


class ExportDownloadView(APIView):
    """The export's file (404 until it has been written)."""

    @extend_schema(
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for media_type in CONTENT_TYPES.values()},
            **_NOT_RESEARCHER,
        }
    )
    def get(self, request, slug: str, export_id: int):
        snapshot = export_for_researcher(slug=slug, user=request.user, export_id=export_id)
        return export_file_response(snapshot)
