"""The base of every configuration section, the hub's and each channel's.

It lives apart from ``hub.config.model`` so that a channel package can declare its section
without importing the whole configuration tree (which is assembled from the channels).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A config section: unknown keys are refused, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ChannelSection(Section):
    """A channel's section: the hub builds the channel only when ``enabled``."""

    enabled: bool = False
