"""Fixity: proof that the stored originals and derived files are the bytes the database recorded."""
