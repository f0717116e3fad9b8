"""``OdaSettings``: the oda plugin's settings section, registered by :mod:`nautilus_oda.plugin`.

Reads the seed collector's variable names without a prefix (``COMPONENT_REGISTRY_URL``,
``KUBERNETES_NAMESPACE``, ``SYNC_INTERVAL`` ...); each also answers to ``NAUTILUS_ODA_<NAME>``.
Validated at start-up with the core settings (a bad value is a ConfigError naming the variable); read by
the reconciler (``ctx.settings_section(OdaSettings)``), the registry clients (``build_registry``) and the
``nautilus oda`` commands. ``LOG_LEVEL`` is the core setting of the same name (``Settings.log_level``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nautilus_core.durations import parse_duration

RegistryType = Literal["component-registry", "tmf639"]
#: the API versions of the Component CRD this plugin reads
COMPONENT_VERSIONS = ("v1beta3", "v1beta4", "v1")
#: SYNC_INTERVAL: a duration ("60s", "5m") or bare seconds, at most a day
SyncSeconds = Annotated[float, BeforeValidator(lambda v: parse_duration(v, maximum=86400.0))]
#: COMPONENT_REGISTRY_TIMEOUT: per HTTP call, at most 10 minutes
TimeoutSeconds = Annotated[float, BeforeValidator(lambda v: parse_duration(v, maximum=600.0))]


def _env(name: str) -> AliasChoices:
    """The seed's name, the prefixed name, and the field name (for ``OdaSettings(field=...)``)."""
    return AliasChoices(name, f"NAUTILUS_ODA_{name}", name.lower())


class OdaSettings(BaseSettings):
    """The Custom-Resource Collector's settings (seed names; see plugins/oda/README.md)."""

    model_config = SettingsConfigDict(env_prefix="NAUTILUS_ODA_", extra="ignore", case_sensitive=False,
                                      validate_default=True, populate_by_name=True)
    section_name: ClassVar[str] = "oda"

    # registry
    #: base URL of the Component Registry (seed API) or of the TMF639 Resource Inventory API
    component_registry_url: str = Field("http://localhost:8000", min_length=1, pattern=r"^https?://",
                                        validation_alias=_env("COMPONENT_REGISTRY_URL"))
    #: the API key sent in the registry's key header (never logged)
    component_registry_api_key: SecretStr | None = Field(None, validation_alias=_env("COMPONENT_REGISTRY_API_KEY"))
    #: the registry entry (type ``self``) this collector files its components under
    component_registry_name: str = Field("nautilus-oda", min_length=1, max_length=200,
                                         validation_alias=_env("COMPONENT_REGISTRY_NAME"))
    #: which registry API: ``component-registry`` (the seed's REST API) or ``tmf639`` (Resource Inventory v5)
    component_registry_type: RegistryType = Field("component-registry",
                                                  validation_alias=_env("COMPONENT_REGISTRY_TYPE"))
    #: attempts per registry call on 429/5xx/connection errors (1: no retry)
    component_registry_retry_attempts: int = Field(3, ge=1, le=20,
                                                   validation_alias=_env("COMPONENT_REGISTRY_RETRY_ATTEMPTS"))
    #: timeout of one registry HTTP call
    component_registry_timeout: TimeoutSeconds = Field(10.0, validation_alias=_env("COMPONENT_REGISTRY_TIMEOUT"))
    #: this collector instance's ownership mark in the registry (default: the registry name); two
    #: collectors sharing one registry need different instances
    collector_instance: str = Field("", max_length=100, validation_alias=_env("COLLECTOR_INSTANCE"))

    # Kubernetes
    #: the namespace to watch; empty or ``*``: every namespace
    kubernetes_namespace: str = Field("", validation_alias=_env("KUBERNETES_NAMESPACE"))
    #: use the pod's service account (the core IN_CLUSTER does the same)
    kubernetes_in_cluster: bool = Field(False, validation_alias=_env("KUBERNETES_IN_CLUSTER"))
    #: API group of the ODA CRDs
    oda_component_group: str = Field("oda.tmforum.org", min_length=1, max_length=253,
                                     pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
                                     validation_alias=_env("ODA_COMPONENT_GROUP"))
    #: the Component (and ExposedAPI) version to read
    oda_component_version: Literal["v1beta3", "v1beta4", "v1"] = Field(
        "v1beta3", validation_alias=_env("ODA_COMPONENT_VERSION"))
    #: the full sync period (also removes orphans)
    sync_interval: SyncSeconds = Field(60.0, validation_alias=_env("SYNC_INTERVAL"))

    # monitoring
    monitoring_enabled: bool = Field(True, validation_alias=_env("MONITORING_ENABLED"))
    #: /metrics and the health endpoints (0: pick a free port)
    monitoring_port: int = Field(8080, ge=0, le=65535, validation_alias=_env("MONITORING_PORT"))

    @field_validator("kubernetes_namespace", "collector_instance", "component_registry_url", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("component_registry_url", mode="after")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("component_registry_type", "oda_component_version", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def all_namespaces(self) -> bool:
        """True when every namespace is watched (registry names are then ``<namespace>/<name>``)."""
        return self.kubernetes_namespace in ("", "*")

    @property
    def namespace(self) -> str | None:
        """The watched namespace, or None for all."""
        return None if self.all_namespaces else self.kubernetes_namespace

    @property
    def owner(self) -> str:
        """The ownership mark written into the registry: ``nautilus-oda/<instance>``."""
        return f"nautilus-oda/{self.collector_instance or self.component_registry_name}"

    def api_key(self) -> str:
        """The API key in clear (for the HTTP header only; never log it)."""
        return self.component_registry_api_key.get_secret_value() if self.component_registry_api_key else ""
