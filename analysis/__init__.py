"""Style features, bias statistics, analysis runs and their Celery jobs."""
