"""The REST API for annotation."""
