"""REST API endpoints for analysis."""
