"""The hub core: from a stored message to the bot, routing, fan-out and delivery."""
