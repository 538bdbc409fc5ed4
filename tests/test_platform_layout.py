"""The configuration lives in platform/config without shadowing the stdlib `platform`."""

import importlib
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_platform_is_the_standard_library():
    import platform

    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)


def test_platform_folder_is_not_a_package():
    assert not (REPO / "platform" / "__init__.py").exists()


def test_config_package_comes_from_platform_folder():
    config = importlib.import_module("config")
    assert Path(config.__file__).resolve().parent == REPO / "platform" / "config"


def test_libraries_that_import_platform_still_work():
    import uuid

    import celery  # noqa: F401
    import pandas  # noqa: F401

    assert uuid.uuid4().version == 4
    assert "platform" in sys.modules and hasattr(sys.modules["platform"], "system")
