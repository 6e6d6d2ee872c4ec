"""Consolidation: read submitted unit workbooks safely, check them, merge them, keep history."""
