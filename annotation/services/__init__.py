"""Services: the business logic behind views, API endpoints, commands and tasks."""
