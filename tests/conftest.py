"""Shared fixtures: users, projects and API clients."""
