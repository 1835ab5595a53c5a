"""Data-subject requests (export, erasure) and the retention schedule."""
