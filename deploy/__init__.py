"""Deployment helpers that run on a developer's machine (no AWS calls)."""
