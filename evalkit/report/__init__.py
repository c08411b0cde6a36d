"""Presenting runs: terminal tables and machine-readable summaries."""
