"""Helpers shared by test modules (fixtures stay in the conftest.py files)."""
