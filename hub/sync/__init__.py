"""Sync: the device change feed, offline push, digests, replicas and instance fan-out."""
