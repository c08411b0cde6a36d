"""Housekeeping of what evalkit keeps on disk: stored runs, the cache file, and the
one-time model artefacts under the user cache directory.

Everything here only plans (what would go, and how much space it frees) or deletes what
a plan named, crash-safely; the commands in evalkit/cli print the plans and ask first.
"""
