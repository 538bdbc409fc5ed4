"""Services: the business logic behind analysis views, API endpoints, commands and tasks."""
