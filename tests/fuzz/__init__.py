"""Hostile media for the pipeline, generated at test time from the tiny fixtures (tests.fuzz.corpus)."""
