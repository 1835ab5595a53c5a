"""What every part of the hub runs on: logs, metrics, background loops, events, presence."""
