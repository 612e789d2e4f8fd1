"""Full-text search over transcripts and clip metadata: SQLite FTS5 or PostgreSQL tsvector."""
