"""The compliance report: merge ``reports/raw/*.json`` into JSON, Markdown and HTML views.

Public API: :func:`build_report`, :func:`write_report` (conformance.report.build),
:class:`SuiteResult` / :class:`CaseResult` (the schema-1 result files, .schema), and the
regression gate (.baseline).
"""
