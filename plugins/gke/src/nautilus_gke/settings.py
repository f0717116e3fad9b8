"""``GkeSettings``: the gke plugin's settings section (NAUTILUS_GKE_*), registered by :mod:`nautilus_gke.plugin`.

Validated at start-up with the core settings; read by :class:`~nautilus_gke.provider.GkeProvider` on
first use (``load_section``), so a bad value is a ConfigError naming the variable.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from nautilus_core.config import CommaList


class GkeSettings(BaseSettings):
    """NAUTILUS_GKE_PROJECTS, NAUTILUS_GKE_LOCATION, NAUTILUS_GKE_ENDPOINT, NAUTILUS_GKE_ANONYMOUS."""

    model_config = SettingsConfigDict(env_prefix="NAUTILUS_GKE_", extra="ignore", case_sensitive=False,
                                      str_strip_whitespace=True)

    #: GCP project ids to scan, comma-separated (required to discover)
    projects: CommaList = Field(default_factory=list)
    #: one location (region or zone); empty: all of them
    location: str = ""
    #: the Container API endpoint (empty: Google's)
    endpoint: str = ""
    #: use anonymous credentials (emulators and tests)
    anonymous: bool = False
