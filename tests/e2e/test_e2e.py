#!/usr/bin/env python3
"""Placeholder replaced by the end-to-end suite."""
print("SKIP e2e: not written yet")
