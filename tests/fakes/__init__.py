"""Fakes of external services, each a local HTTP server speaking the real wire format."""
