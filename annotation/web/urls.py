"""Web routes for annotators and researchers."""

urlpatterns: list = []
