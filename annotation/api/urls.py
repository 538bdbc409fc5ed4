"""API routes for annotation."""

urlpatterns: list = []
