"""Dataset exports without Django: column definitions, the vote arithmetic, row assembly,
file writers (JSON Lines, CSV, Parquet) and the way back to the canonical import format.

The Django side (``analysis.services.exports``) loads a project's data batch by batch
and hands each batch to these modules; see docs/exports.md.
"""
