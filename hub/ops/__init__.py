"""Operations: logging, metrics, the configured database, scheduled jobs and graceful drain."""
