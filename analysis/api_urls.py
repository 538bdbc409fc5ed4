"""API routes for analysis (feature progress, analysis runs)."""

urlpatterns: list = []
