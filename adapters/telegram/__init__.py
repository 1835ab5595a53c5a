"""The Telegram channel: Bot API updates in by webhook or long polling, replies out.

Import ``adapters.telegram.adapter.TelegramAdapter``; this package file stays empty so
that the CLI can load the channel's admin commands without the SDK until they run.
"""
