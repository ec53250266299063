"""Report stage: the result document and its renderers (Markdown, JSON, HTML, JUnit, summary).

Every renderer is ``render(doc) -> str`` over the ``perfopt/report/v1`` document
(docs/REPORT_FORMAT.md); ``writer.write_reports`` redacts and writes them atomically.
"""
