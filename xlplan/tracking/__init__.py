"""Tracking through the year (跟踪与迭代, docs/METHOD.md step 4): actuals, warnings, board.

Pure modules (no DuckDB, no files read or written; numbers from :mod:`xlplan.engine`):
``actuals`` (the table they all read), ``calendar`` (fiscal days, weeks,
months), ``measures`` (what an actuals row may measure), ``phased_targets`` (phased
revenue targets), ``compare`` (variance,
attainment and status at day, week, month, quarter and year to date),
``scorecard`` (KPI values, BSC scores, OKR progress from actuals), ``spend``
(budget lines, spend vs budget, ROI freeze), ``warning_rules`` (the warnings),
``track`` (all of it for one as-of date), ``reforecast`` (the rest of the
year re-spread) and ``quarter_review`` (the quarterly review's arithmetic).

Input and output: ``reader`` (actuals files, checked row by row), ``store``
(DuckDB), ``board`` (the board workbook, a module per sheet),
``plan_file`` (the re-forecast plan YAML) and ``synthetic`` (a seeded year of
actuals for demos and tests).
"""
