"""The annotator and researcher web UI."""
