"""Comment moderation pipeline: pure logic, text and metadata in, verdict out."""
