"""The weekly bias report, apart from Django: weeks, trend, headline, charts, HTML.

``weeks`` turns ISO week labels into time windows of a time zone; ``trend`` computes the
per-week figures from judgment frames; ``headline`` says in plain words what the week
shows; ``charts`` draws the figures with matplotlib; ``document`` renders the
self-contained HTML. ``analysis.services.weekly_reports`` loads the data and stores the
result.
"""
