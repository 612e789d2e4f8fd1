"""Redaction of training copies: what to hide in a clip (spoken PII now; faces live in media)."""
