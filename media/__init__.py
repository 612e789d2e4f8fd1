"""Pure functions over media files. Knows nothing of the database, the API or settings."""
