"""Add a user (created if needed) to a project as an annotator or researcher."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotation.models import Role
from annotation.services.projects import member_add


class Command(BaseCommand):
    help = "add_member SLUG USERNAME --role annotator|researcher [--password P]"

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", default=None)

    def handle(self, *args, slug, username, role, password, **options):
        try:
            _membership, created = member_add(
                slug=slug, username=username, role=role, password=password
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        verb = "Added" if created else "Already a member:"
        self.stdout.write(f"{verb} {username} to {slug} as {role}.")
