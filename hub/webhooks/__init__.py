"""Outbound webhooks: inbox events posted, signed and at least once, to admins' endpoints."""
