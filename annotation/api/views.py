"""API endpoints for projects, assignments and judgments: thin wrappers over services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.serializers import (
    AssignmentSerializer,
    JudgmentInputSerializer,
    JudgmentSerializer,
    ProgressSerializer,
    ProjectSerializer,
)
from annotation.models import JudgmentSource, Role
from annotation.selectors import (
    assignment_for_annotator,
    project_for_member,
    project_progress,
    projects_for_user,
)
from annotation.services.assignment import assignment_next, assignment_skip
from annotation.services.judgments import JudgmentConflict, judgment_submit


class ProjectListView(APIView):
    @extend_schema(responses=ProjectSerializer(many=True))
    def get(self, request):
        projects = (
            projects_for_user(request.user)
            .select_related("rubric")
            .prefetch_related("rubric__criteria", "memberships")
        )
        data = ProjectSerializer(projects, many=True, context={"request": request}).data
        return Response(data)


class ProjectDetailView(APIView):
    @extend_schema(responses=ProjectSerializer)
    def get(self, request, slug: str):
        project = project_for_member(slug=slug, user=request.user)
        return Response(ProjectSerializer(project, context={"request": request}).data)


class NextAssignmentView(APIView):
    @extend_schema(
        responses={
            200: AssignmentSerializer,
            204: OpenApiResponse(description="Nothing left for this annotator."),
        }
    )
    def get(self, request, slug: str):
        project = project_for_member(slug=slug, user=request.user, role=Role.ANNOTATOR)
        assignment = assignment_next(project=project, annotator=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(AssignmentSerializer(assignment).data)


class JudgmentView(APIView):
    @extend_schema(
        request=JudgmentInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="Repeat a request safely: the same key returns the same judgment.",
            )
        ],
        responses={
            201: JudgmentSerializer,
            400: OpenApiResponse(description="Invalid input; the body names each field."),
            409: OpenApiResponse(description="Already judged differently, or no longer open."),
        },
    )
    def post(self, request, assignment_id: int):
        assignment = assignment_for_annotator(assignment_id=assignment_id, user=request.user)
        body = request.data
        if not isinstance(body, dict):
            return Response(
                {"non_field_errors": ["Expected a JSON object."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            judgment, created = judgment_submit(
                assignment=assignment,
                annotator=request.user,
                choice=body.get("choice"),
                strength=body.get("strength"),
                criteria=body.get("criteria"),
                rationale=body.get("rationale", ""),
                seconds=body.get("seconds"),
                idempotency_key=request.headers.get("Idempotency-Key", ""),
                source=JudgmentSource.API,
            )
        except DjangoValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        except JudgmentConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        response = Response(JudgmentSerializer(judgment).data, status=status.HTTP_201_CREATED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class SkipView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, assignment_id: int):
        assignment = assignment_for_annotator(assignment_id=assignment_id, user=request.user)
        assignment_skip(assignment=assignment, annotator=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProgressView(APIView):
    @extend_schema(responses=ProgressSerializer)
    def get(self, request, slug: str):
        project = project_for_member(slug=slug, user=request.user, role=Role.RESEARCHER)
        return Response(project_progress(project=project))
