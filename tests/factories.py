"""factory_boy factories for the annotation domain."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from annotation import models
from annotation.services.imports.records import prompt_hash


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


class RubricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Rubric

    name = factory.Sequence(lambda n: f"rubric-{n}")
    version = 1


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Criterion

    rubric = factory.SubFactory(RubricFactory)
    key = factory.Sequence(lambda n: f"crit{n}")
    label = factory.LazyAttribute(lambda o: o.key.title())
    kind = models.CriterionKind.COMPARE
    position = factory.Sequence(int)


def rubric_with_criteria(name: str | None = None) -> models.Rubric:
    """A rubric with a `correctness` compare criterion and a 1–5 `clarity` rating."""
    rubric = RubricFactory(**({"name": name} if name else {}))
    CriterionFactory(rubric=rubric, key="correctness", kind="compare", position=0)
    CriterionFactory(
        rubric=rubric, key="clarity", kind="rating", scale_min=1, scale_max=5, position=1
    )
    return rubric


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    rubric = factory.LazyFunction(rubric_with_criteria)
    overlap = 1
    guidelines = "Judge **correctness** first."


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = models.Role.ANNOTATOR


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Prompt

    project = factory.SubFactory(ProjectFactory)
    messages = factory.Sequence(lambda n: [{"role": "user", "content": f"Question number {n}?"}])
    content_hash = factory.LazyAttribute(lambda o: prompt_hash(o.messages))


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Response

    prompt = factory.SubFactory(PromptFactory)
    project = factory.SelfAttribute("prompt.project")
    text = factory.Sequence(lambda n: f"Answer {n}.")
    model = "model-x"


class ComparisonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Comparison

    project = factory.SubFactory(ProjectFactory)
    prompt = factory.LazyAttribute(lambda o: PromptFactory(project=o.project))
    response_a = factory.LazyAttribute(
        lambda o: ResponseFactory(prompt=o.prompt, model="model-x", text="Plain answer.")
    )
    response_b = factory.LazyAttribute(
        lambda o: ResponseFactory(
            prompt=o.prompt, model="model-y", text="Great question! Here is the answer 😀."
        )
    )
    external_id = factory.Sequence(lambda n: f"c-{n}")
