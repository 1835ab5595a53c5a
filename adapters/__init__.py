"""Channel adapters: one package per platform, all implementing ``hub.channels.ChannelAdapter``."""
