"""Web routes for analysis pages."""

urlpatterns: list = []
