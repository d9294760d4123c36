"""Bundled sample data (package data, so the quick start needs no download)."""
