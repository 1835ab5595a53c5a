"""Channel adapters: one package per platform, each a ``hub.channels.port.ChannelAdapter``."""
