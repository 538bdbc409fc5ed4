"""API endpoints for weekly bias reports: list a project's reports, read one, generate one."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.models import Report
from analysis.services.weekly_reports import WeekError, report_enqueue
from analysis.weekly.weeks import last_completed_week
from annotation.selectors import project_for_researcher

_FORBIDDEN = OpenApiResponse(description="A member of the project who is not a researcher.")
_NOT_FOUND = OpenApiResponse(description="No such project (or not a member of it).")


class ReportSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField(help_text="This report in the API.")
    html = serializers.SerializerMethodField(
        help_text="The report document on the site (null until it has one)."
    )
    download = serializers.SerializerMethodField(
        help_text="The report document as a file (null until it has one)."
    )

    class Meta:
        model = Report
        fields = [
            "project",
            "week",
            "period_start",
            "period_end",
            "status",
            "n_judgments",
            "headline",
            "error",
            "created_at",
            "finished_at",
            "emailed_at",
            "url",
            "html",
            "download",
        ]

    def get_url(self, report: Report) -> str:
        return reverse("api-report-detail", args=[report.project.slug, report.week])

    def get_html(self, report: Report) -> str | None:
        if not report.html:
            return None
        return reverse("weekly-report", args=[report.project.slug, report.week])

    def get_download(self, report: Report) -> str | None:
        if not report.html:
            return None
        return reverse("weekly-report-download", args=[report.project.slug, report.week])


class ReportDetailSerializer(ReportSerializer):
    result = serializers.JSONField(
        read_only=True,
        help_text="The report's figures: headline, the week's analysis "
        "(AnalysisResult.to_dict()), the trend by week; see docs/reports.md.",
    )

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "result"]


class ReportRequestSerializer(serializers.Serializer):
    week = serializers.CharField(
        required=False,
        max_length=16,
        help_text="ISO week, e.g. 2026-W47 (default: the last completed week in the "
        "project's time zone).",
    )


class ProjectReportsView(APIView):
    """A project's weekly reports, newest week first (researchers of the project)."""

    @extend_schema(responses={200: ReportSerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND})
    def get(self, request, slug: str):
        project = project_for_researcher(slug=slug, user=request.user)
        reports = project.reports.select_related("project").order_by("-period_start")
        return Response(ReportSerializer(reports, many=True).data)

    @extend_schema(
        request=ReportRequestSerializer,
        responses={
            202: ReportSerializer,
            400: OpenApiResponse(description="Not an ISO week, or a week not started yet."),
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
    )
    def post(self, request, slug: str):
        """Generate (or regenerate) one week's report; 202 with the report.

        It is computed by a Celery task after this request commits. With eager Celery (no
        broker configured) it has finished when the response is sent; otherwise poll its
        ``url`` until ``status`` is ``succeeded`` or ``failed``. Not emailed.
        """
        project = project_for_researcher(slug=slug, user=request.user)
        body = ReportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        week = body.validated_data.get("week") or last_completed_week(
            timezone.now(), project.time_zone
        )
        try:
            report = report_enqueue(project=project, week=week)
        except WeekError as exc:
            return Response({"week": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailView(APIView):
    """One week's report with its figures (researchers of the project)."""

    @extend_schema(responses={200: ReportDetailSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND})
    def get(self, request, slug: str, week: str):
        project = project_for_researcher(slug=slug, user=request.user)
        report = project.reports.select_related("project").filter(week=week).first()
        if report is None:
            raise Http404("No report of this week.")
        return Response(ReportDetailSerializer(report).data)
