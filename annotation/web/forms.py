"""Forms of the researcher pages."""

from __future__ import annotations

from django import forms

from annotation.services.imports import FORMAT_CHOICES

FORMAT_LABELS = {
    "auto": "Detect automatically",
    "jsonl": "tiebreak JSON Lines",
    "csv": "CSV",
    "hh-rlhf": "Anthropic hh-rlhf",
    "pandalm": "PandaLM",
    "arena": "Chatbot Arena",
}


def import_formats() -> list[tuple[str, str]]:
    """The formats ``import_file`` accepts, "auto" first."""
    return [(name, FORMAT_LABELS.get(name, name)) for name in FORMAT_CHOICES]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="JSON Lines (one comparison per line), JSON, CSV, or gzip of these.",
    )
    format = forms.ChoiceField(label="Format", choices=(), initial="auto")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = import_formats()
