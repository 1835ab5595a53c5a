"""Fixtures of this folder, shared from ``tests.helpers.storage``."""

from tests.helpers.storage import (  # noqa: F401 (fixtures pytest finds here)
    archive_store,
    mongo,
    s3_config,
    s3_endpoint,
    s3_env,
)
