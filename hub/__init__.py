"""Chorus hub: app factory, domain model, routing, bot, REST API and CLI."""
