"""Configuration: one pydantic model tree loaded from YAML plus environment, and its sections."""
