#!/usr/bin/env python
"""Django's command-line utility for tiebreak."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Run `make venv` and use .venv/bin/python."
        ) from exc
    try:
        import config  # noqa: F401  (installed editable from platform/config; see pyproject.toml)
    except ImportError as exc:
        raise ImportError(
            "The configuration package `config` is not installed: run `make venv` "
            "(pip install -e .)."
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
