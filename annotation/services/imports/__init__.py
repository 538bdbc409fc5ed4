"""Import comparisons and judgments from files: the canonical JSONL, CSV, and adapters for
public data sets (hh-rlhf, PandaLM, Chatbot Arena). See docs/import-formats.md."""

from annotation.services.imports.detect import FORMAT_CHOICES, FORMATS
from annotation.services.imports.errors import ImportErrorItem, ImportFailed
from annotation.services.imports.queue import (
    import_enqueue,
    import_run_execute,
    import_run_fail,
    import_should_queue,
)
from annotation.services.imports.service import ImportResult, import_file

__all__ = [
    "FORMATS",
    "FORMAT_CHOICES",
    "ImportErrorItem",
    "ImportFailed",
    "ImportResult",
    "import_enqueue",
    "import_file",
    "import_run_execute",
    "import_run_fail",
    "import_should_queue",
]
