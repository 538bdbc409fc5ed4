"""Create a project with a rubric from a JSON or YAML file."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotation.services.projects import project_create
from annotation.services.rubrics import rubric_spec_load


class Command(BaseCommand):
    help = "Create a project: create_project SLUG --rubric FILE [--name NAME] [--overlap N]"

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--rubric", required=True, help="Rubric file (.json, .yaml, .yml)")
        parser.add_argument("--name", default="")
        parser.add_argument("--overlap", type=int, default=1)
        parser.add_argument("--guidelines", default="", help="Markdown file with guidelines")

    def handle(self, *args, slug, rubric, name, overlap, guidelines, **options):
        try:
            spec = rubric_spec_load(rubric)
            text = ""
            if guidelines:
                with open(guidelines, encoding="utf-8") as f:
                    text = f.read()
            project = project_create(
                slug=slug, name=name or slug, rubric_spec=spec, overlap=overlap, guidelines=text
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        except OSError as exc:
            raise CommandError(f"{guidelines}: {exc.strerror}") from exc
        self.stdout.write(
            f"Created project {project.slug} with rubric {project.rubric} "
            f"(overlap {project.overlap})."
        )
