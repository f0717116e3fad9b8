"""``AksSettings``: the aks plugin's settings section (NAUTILUS_AKS_*), registered by :mod:`nautilus_aks.plugin`.

Validated at start-up with the core settings; read by :class:`~nautilus_aks.provider.AksProvider` on
first use (``load_section``), so a bad value is a ConfigError naming the variable.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from nautilus_core.config import CommaList


class AksSettings(BaseSettings):
    """NAUTILUS_AKS_SUBSCRIPTIONS (comma-separated), NAUTILUS_AKS_ENDPOINT."""

    model_config = SettingsConfigDict(env_prefix="NAUTILUS_AKS_", extra="ignore", case_sensitive=False,
                                      str_strip_whitespace=True)

    #: Azure subscription ids to scan (required to discover)
    subscriptions: CommaList = Field(default_factory=list)
    #: the Azure Resource Manager endpoint (empty: Azure's)
    endpoint: str = ""
