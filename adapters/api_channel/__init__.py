"""The generic API channel: any platform Chorus does not ship, bridged by an integrator."""
