"""Feature jobs on the embedded default: eager Celery, chunking, upserts, progress, API, command."""

from __future__ import annotations

import dataclasses
import itertools
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from analysis.features import Extractor, active_registry, extract
from analysis.features.emojis import EXTRACTOR as EMOJIS
from analysis.models import FeatureChunk, FeatureJob, FeatureValue, JobStatus
from analysis.selectors import feature_progress, feature_values_frame
from analysis.services.features import feature_chunk_process, feature_job_enqueue
from annotation.models import Response, Role
from config.celery_app import app as celery_app
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    PromptFactory,
    ResponseFactory,
    UserFactory,
)

TEXTS = [
    "Great question! You're absolutely right 😀. Here is the answer.",
    "# Plan\n\n- step one\n- step two\n\n**Definitely** do this first.",
    "No. That is incorrect; the boiling point depends on pressure.",
    "I think it might work, perhaps, but I am not sure.",
    "Sure! 🎉🎉 Happy to help with that. 👍🏽",
    "",
]
PROMPTS = [
    [{"role": "user", "content": "I believe the earth is flat, right?"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Water boils at 100 °C everywhere, doesn't it?"},
    ],
]

# A new version of the emoji extractor: same name, different numbers.
EMOJIS_V2 = dataclasses.replace(
    EMOJIS, version=EMOJIS.version + 1, func=lambda text, messages: (10.0 * text.count("!"),)
)
EMOJIS_V2_PATH = f"{__name__}.EMOJIS_V2"


def _broken(text, messages):
    raise RuntimeError("extractor bug")


BROKEN = Extractor(
    name="broken", version=1, description="Always fails.", unit="", columns=("",), func=_broken
)


@pytest.fixture(autouse=True)
def eager_celery():
    """Run tasks in-process, as the embedded default does, whatever the environment says."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Enqueue a job and run its (on_commit) tasks, as after a real commit."""

    def run(**kwargs) -> FeatureJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = feature_job_enqueue(**kwargs)
        job.refresh_from_db()
        return job

    return run


def _make_responses(project, n: int) -> list[Response]:
    # Two responses per prompt, as in a comparison; the first prompts are conversations.
    prompts = [
        PromptFactory(project=project, **({"messages": PROMPTS[i]} if i < len(PROMPTS) else {}))
        for i in range((n + 1) // 2)
    ]
    return [
        ResponseFactory(prompt=prompts[i // 2], text=f"{TEXTS[i % len(TEXTS)]} #{i}")
        for i in range(n)
    ]


def _current_pairs() -> set[tuple[str, int]]:
    return {(e.name, e.version) for e in active_registry()}


def _prompt_of(response: Response):
    return response.prompt.messages


@pytest.mark.django_db
class TestEnqueue:
    def test_every_response_gets_every_current_extractor(self, project, run):
        responses = _make_responses(project, 50)
        job = run(project=project, chunk_size=7)

        assert job.status == JobStatus.SUCCEEDED
        assert job.total == 50
        assert job.extractors == [[e.name, e.version] for e in active_registry()]
        for response in responses:
            assert set(response.features.values_list("extractor", "version")) == (_current_pairs())
        assert FeatureValue.objects.count() == 50 * len(active_registry())

    def test_frame_equals_extract_on_the_texts(self, project, run):
        responses = _make_responses(project, 12)
        run(project=project)

        frame = feature_values_frame(project=project)

        expected = pd.DataFrame(
            [extract(r.text, prompt=_prompt_of(r)) for r in responses],
            index=pd.Index([r.pk for r in responses], name="response_id"),
        )
        assert list(frame.columns) == active_registry().feature_keys()
        assert "emojis" in frame.columns and "length.words" in frame.columns
        pd.testing.assert_frame_equal(frame, expected, check_dtype=False, check_exact=True)

    def test_frame_of_selected_ids_keeps_their_order_with_nan_for_missing(self, project, run):
        responses = _make_responses(project, 6)
        run(project=project)
        late = ResponseFactory(prompt=responses[0].prompt, text="Not extracted yet!")
        wanted = [responses[3].pk, late.pk, responses[0].pk, responses[3].pk]

        frame = feature_values_frame(project=project, response_ids=wanted)

        assert list(frame.index) == wanted
        assert frame.loc[late.pk].isna().all()
        assert frame.iloc[0].equals(frame.iloc[3])
        assert frame.loc[responses[0].pk, "length.chars"] == len(responses[0].text)

    def test_stored_shape_single_column_under_empty_name(self, project, run):
        (response,) = _make_responses(project, 1)
        response.text = "Hi 😀😀"
        response.save()
        run(project=project)

        # The shape of extract_by_extractor: {column: value}, "" for a single column.
        assert EMOJIS.columns == ("",)
        assert response.features.get(extractor="emojis").values == {"": 2.0}
        for extractor in active_registry():
            stored = response.features.get(extractor=extractor.name).values
            assert set(stored) == set(extractor.columns)  # (jsonb does not keep key order)

    def test_rerun_without_force_does_nothing_new(self, project, run):
        _make_responses(project, 20)
        run(project=project)
        before = dict(FeatureValue.objects.values_list("pk", "values"))

        job = run(project=project)

        assert job.status == JobStatus.SUCCEEDED
        assert job.total == 0 and not job.chunks.exists()
        assert dict(FeatureValue.objects.values_list("pk", "values")) == before

    def test_without_force_only_missing_responses_are_processed(self, project, run):
        responses = _make_responses(project, 20)
        run(project=project)
        # One response lost one extractor's row, and two responses are new.
        FeatureValue.objects.filter(response=responses[4], extractor="emojis").delete()
        new = [ResponseFactory(prompt=responses[0].prompt, text=f"New {i}!") for i in range(2)]
        untouched = FeatureValue.objects.get(response=responses[4], extractor="length")

        job = run(project=project, chunk_size=2)

        assert job.total == 3
        assert list(job.chunks.values_list("size", flat=True)) == [2, 1]
        assert FeatureValue.objects.count() == 22 * len(active_registry())
        assert FeatureValue.objects.get(pk=untouched.pk).values == untouched.values
        for response in [responses[4], *new]:
            assert set(response.features.values_list("extractor", "version")) == (_current_pairs())

    def test_force_recomputes_everything(self, project, run):
        responses = _make_responses(project, 10)
        run(project=project)
        FeatureValue.objects.filter(extractor="emojis").update(values={"": -1.0})

        job = run(project=project, force=True, chunk_size=4)

        assert job.force and job.total == 10 and job.chunks.count() == 3
        assert FeatureValue.objects.count() == 10 * len(active_registry())
        for response in responses:
            stored = response.features.get(extractor="emojis").values[""]
            assert stored == extract(response.text, prompt=_prompt_of(response))["emojis"]

    def test_version_bump_adds_rows_and_keeps_old_ones(self, project, run, settings):
        responses = _make_responses(project, 10)
        run(project=project)
        old = dict(FeatureValue.objects.values_list("pk", "values"))
        settings.TIEBREAK_FEATURE_EXTRACTORS = [
            EMOJIS_V2_PATH if path.endswith(".emojis.EXTRACTOR") else path
            for path in settings.TIEBREAK_FEATURE_EXTRACTORS
        ]

        job = run(project=project)

        assert job.total == 10
        assert [EMOJIS.name, EMOJIS_V2.version] in job.extractors
        # The old rows are all still there, untouched; only the bumped extractor ran.
        assert dict(FeatureValue.objects.filter(pk__in=old).values_list("pk", "values")) == old
        assert FeatureValue.objects.count() == len(old) + 10
        assert FeatureValue.objects.filter(extractor="emojis", version=EMOJIS.version).count() == 10
        frame = feature_values_frame(project=project)
        assert list(frame["emojis"]) == [10.0 * r.text.count("!") for r in responses]

    def test_chunks_cover_every_id_exactly_once(self, project, other_project, run):
        responses = []
        for _ in range(25):
            # Interleave another project's responses, so ranges have gaps in them.
            prompt = PromptFactory(project=project)
            responses += [ResponseFactory(prompt=prompt), ResponseFactory(prompt=prompt)]
            ResponseFactory(prompt=PromptFactory(project=other_project))
        assert len(responses) == 50

        job = run(project=project, chunk_size=7)

        chunks = list(job.chunks.order_by("first_id"))
        assert [c.size for c in chunks] == [7] * 7 + [1]
        assert all(c.done and c.attempts == 1 for c in chunks)
        for earlier, later in itertools.pairwise(chunks):
            assert earlier.last_id < later.first_id
        covered = [
            rid
            for c in chunks
            for rid in Response.objects.filter(
                project=project, id__gte=c.first_id, id__lte=c.last_id
            ).values_list("id", flat=True)
        ]
        assert sorted(covered) == sorted(r.pk for r in responses)
        assert len(covered) == len(set(covered))
        assert not FeatureValue.objects.filter(response__project=other_project).exists()

    def test_empty_project_job_succeeds_at_once(self, project, run):
        job = run(project=project)
        assert job.status == JobStatus.SUCCEEDED and job.total == 0
        assert feature_progress(project=project)["percent"] == 100.0

    def test_failing_extractor_marks_the_job_failed(self, project, run, settings):
        _make_responses(project, 3)
        settings.TIEBREAK_FEATURE_EXTRACTORS = [f"{__name__}.BROKEN"]

        job = run(project=project)

        assert job.status == JobStatus.FAILED
        assert "extractor bug" in job.error
        assert not FeatureValue.objects.exists()


@pytest.mark.django_db
class TestChunks:
    def test_progress_counts_done_chunks(self, project, django_capture_on_commit_callbacks):
        _make_responses(project, 10)
        assert feature_progress(project=project) is None
        with django_capture_on_commit_callbacks(execute=False):
            job = feature_job_enqueue(project=project, chunk_size=4)

        progress = feature_progress(project=project)
        assert progress["job_id"] == job.pk
        assert (progress["status"], progress["done"], progress["total"]) == ("pending", 0, 10)
        assert progress["percent"] == 0.0

        first, second, third = job.chunks.order_by("first_id")
        assert feature_chunk_process(job_id=job.pk, chunk_id=first.pk) is True
        progress = feature_progress(project=project)
        assert (progress["status"], progress["done"], progress["percent"]) == ("running", 4, 40.0)

        feature_chunk_process(job_id=job.pk, chunk_id=third.pk)
        assert feature_progress(project=project)["status"] == "running"
        feature_chunk_process(job_id=job.pk, chunk_id=second.pk)
        progress = feature_progress(project=project)
        assert (progress["status"], progress["done"], progress["percent"]) == (
            "succeeded",
            10,
            100.0,
        )

    def test_a_chunk_run_twice_is_a_no_op(self, project, django_capture_on_commit_callbacks):
        _make_responses(project, 5)
        with django_capture_on_commit_callbacks(execute=False):
            job = feature_job_enqueue(project=project)
        (chunk,) = job.chunks.all()
        feature_chunk_process(job_id=job.pk, chunk_id=chunk.pk)
        before = dict(FeatureValue.objects.values_list("pk", "values"))

        assert feature_chunk_process(job_id=job.pk, chunk_id=chunk.pk) is False
        assert dict(FeatureValue.objects.values_list("pk", "values")) == before
        assert FeatureChunk.objects.get(pk=chunk.pk).attempts == 1

    def test_an_unfinished_attempt_is_simply_redone(
        self, project, django_capture_on_commit_callbacks
    ):
        """A worker killed after writing nothing (its transaction never committed)."""
        _make_responses(project, 5)
        with django_capture_on_commit_callbacks(execute=False):
            job = feature_job_enqueue(project=project, force=True)
        (chunk,) = job.chunks.all()
        FeatureChunk.objects.filter(pk=chunk.pk).update(attempts=1)  # the lost attempt

        assert feature_chunk_process(job_id=job.pk, chunk_id=chunk.pk) is True
        assert FeatureChunk.objects.get(pk=chunk.pk).attempts == 2
        assert FeatureValue.objects.count() == 5 * len(active_registry())

    def test_task_takes_ids_and_is_idempotent(self, project, run):
        from analysis.tasks import extract_feature_chunk

        _make_responses(project, 4)
        job = run(project=project)
        chunk = job.chunks.get()
        assert extract_feature_chunk.apply(args=(job.pk, chunk.pk)).get() is False
        assert extract_feature_chunk.acks_late and extract_feature_chunk.reject_on_worker_lost
        assert extract_feature_chunk.max_retries == 5


@pytest.mark.django_db
class TestProgressApi:
    URL = "/api/projects/{}/features/progress/"

    def test_researcher_sees_progress(self, project, researcher, api_client_for, run):
        _make_responses(project, 6)
        job = run(project=project, chunk_size=4)

        response = api_client_for(researcher).get(self.URL.format(project.slug))

        assert response.status_code == 200
        body = response.json()
        assert body["job_id"] == job.pk
        assert (body["status"], body["done"], body["total"]) == ("succeeded", 6, 6)
        assert body["extractors"] == [
            {"name": e.name, "version": e.version} for e in active_registry()
        ]

    def test_no_job_yet(self, project, researcher, api_client_for):
        body = api_client_for(researcher).get(self.URL.format(project.slug)).json()
        assert (body["job_id"], body["status"], body["done"], body["total"]) == (None, None, 0, 0)

    def test_annotator_is_forbidden(self, project, annotator, api_client_for):
        response = api_client_for(annotator).get(self.URL.format(project.slug))
        assert response.status_code == 403

    def test_non_member_gets_404(self, project, outsider, api_client_for):
        response = api_client_for(outsider).get(self.URL.format(project.slug))
        assert response.status_code == 404

    def test_anonymous_is_refused(self, client, project):
        assert client.get(self.URL.format(project.slug)).status_code in (401, 403)

    def test_researcher_of_another_project_gets_404(self, project, other_project, api_client_for):
        user = UserFactory(username="res-elsewhere")
        MembershipFactory(project=other_project, user=user, role=Role.RESEARCHER)
        response = api_client_for(user).get(self.URL.format(project.slug))
        assert response.status_code == 404


# The command commits its own transactions, as it does in production: transactional tests.
@pytest.mark.django_db(transaction=True)
class TestCommand:
    def _call(self, *args):
        out, err = StringIO(), StringIO()
        call_command("extract_features", *args, stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    def test_extracts_and_reports(self):
        project = ProjectFactory(slug="cmd")
        _make_responses(project, 9)

        out, err = self._call("cmd", "--chunk-size", "4")

        assert "succeeded: 9/9 responses" in out
        assert "9/9" in err  # the progress bar
        assert FeatureValue.objects.count() == 9 * len(active_registry())
        job = FeatureJob.objects.get()
        assert job.chunks.aggregate(n=Sum("size"))["n"] == 9

        out, _ = self._call("cmd")
        assert "succeeded: 0/0 responses" in out
        out, _ = self._call("cmd", "--force")
        assert "succeeded: 9/9 responses" in out

    def test_no_wait_returns_the_job(self):
        project = ProjectFactory(slug="cmd")
        _make_responses(project, 3)
        out, _ = self._call("cmd", "--no-wait")
        job = FeatureJob.objects.get()
        assert f"Feature job {job.pk} enqueued: 3 responses" in out

    def test_unknown_project(self):
        with pytest.raises(CommandError, match="No project"):
            self._call("nope")

    def test_failed_job_is_an_error(self, settings):
        project = ProjectFactory(slug="cmd")
        _make_responses(project, 2)
        settings.TIEBREAK_FEATURE_EXTRACTORS = [f"{__name__}.BROKEN"]
        with pytest.raises(CommandError, match="failed: RuntimeError: extractor bug"):
            self._call("cmd")


@pytest.mark.django_db
def test_command_gives_up_after_its_timeout(project):
    """Tasks that never run (here: on_commit never fires inside the test's transaction)."""
    _make_responses(project, 2)
    args = ["extract_features", project.slug, "--timeout", "0.3", "--poll", "0.1"]
    with pytest.raises(CommandError, match=r"still pending after 0\.3 s"):
        call_command(*args, stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_frame_is_float_and_indexed_by_response_id(project):
    (response,) = _make_responses(project, 1)
    frame = feature_values_frame(project=project)
    assert frame.index.name == "response_id" and list(frame.index) == [response.pk]
    assert frame.dtypes.map(lambda d: d == np.float64).all()
    assert frame.isna().all().all()


def test_a_chunk_task_that_dies_for_good_fails_its_job(project):
    """What the worker calls when retries are spent or the time limit kills the chunk."""
    from analysis.tasks import extract_feature_chunk

    job = FeatureJob.objects.create(project=project, status=JobStatus.RUNNING)
    extract_feature_chunk.on_failure(
        TimeoutError("hard time limit"), "t", (), {"job_id": job.pk, "chunk_id": 1}, None
    )
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "TimeoutError: hard time limit" in job.error
