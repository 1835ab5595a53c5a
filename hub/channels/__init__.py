"""What a channel is made of: its spec, the interface it implements, its config and checks."""
