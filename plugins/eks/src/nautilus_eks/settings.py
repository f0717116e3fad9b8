"""``EksSettings``: the eks plugin's settings section (NAUTILUS_EKS_*), registered by :mod:`nautilus_eks.plugin`.

Validated at start-up with the core settings; read by :class:`~nautilus_eks.provider.EksProvider` on
first use (``load_section``), so a bad value is a ConfigError naming the variable.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from nautilus_core.config import CommaList


class EksSettings(BaseSettings):
    """NAUTILUS_EKS_REGIONS (comma-separated; default: the AWS session's region), NAUTILUS_EKS_ROLE_ARN."""

    model_config = SettingsConfigDict(env_prefix="NAUTILUS_EKS_", extra="ignore", case_sensitive=False)

    #: regions to scan (default: the AWS session's region)
    regions: CommaList = Field(default_factory=list)
    #: a role to assume through STS before anything else (empty: none)
    role_arn: str = ""
