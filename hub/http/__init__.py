"""HTTP and WebSocket concerns the API and the channel adapters share: errors, bodies, limits."""
