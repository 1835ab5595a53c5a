"""The only door to MongoDB and the archive store."""
