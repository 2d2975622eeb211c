"""History import, the pure half: streaming parsers of WordPress (WXR), Disqus and CSV
exports into :class:`~service.domain.imports.records.Entry` records, and the mapping of an
export's moderation states to statuses and labels. No SQL, no I/O beyond the stream given."""
