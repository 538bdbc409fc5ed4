"""Project.time_zone accepts IANA names only."""

import pytest
from django.core.exceptions import ValidationError

from annotation.models import validate_time_zone


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_iana_names_are_accepted(name):
    validate_time_zone(name)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "europe/berlin "])
def test_other_names_are_refused_with_the_name(name):
    with pytest.raises(ValidationError, match="is not an IANA time zone name"):
        validate_time_zone(name)
