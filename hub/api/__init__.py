"""The JWT-secured REST API under ``/api/v1``."""
