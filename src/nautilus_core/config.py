"""Settings from the environment (and flags), validated once at start-up.

Accepts the seed projects' variable names (DATABASE_URL or DB_* with DB_SSL or DB_SSL_MODE, KUBECONFIG, IN_CLUSTER, the
controller's RECONCILE_INTERVAL ...). Durations accept Go-style strings ("500ms", "30s", "5m",
"1h30m", "1d") or bare seconds (one parser: :mod:`nautilus_core.durations`). An invalid value fails
fast with a :class:`ConfigError` naming the variable and what it accepts. Read by the CLI (once at
start-up), the ``Nautilus`` facade, and ``kube/`` (:func:`kube_settings`, for clients built by providers).
Plugins' own sections (``nautilus_register_settings``) are validated here too (:func:`load_section`),
with the same messages, each variable named with its section's ``env_prefix``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from nautilus_core.durations import format_duration, parse_duration
from nautilus_core.errors import ConfigError
from nautilus_core.logs import redact_url

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
#: a duration in seconds, written "30s", "5m", "1h30m", "500ms" or as bare seconds; always > 0 and finite
Seconds = Annotated[float, BeforeValidator(parse_duration)]
_S = TypeVar("_S", bound=BaseSettings)


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


#: a list written comma-separated in the environment (``"a, b,,c"`` -> ``["a", "b", "c"]``)
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_comma_list)]
#: the longest tombstone retention (100 years): beyond it dates overflow
MAX_RETENTION_DAYS = 36500


def default_sqlite_path(home: str | Path | None = None) -> Path:
    """``home/nautilus.db`` (``Settings.nautilus_home``: NAUTILUS_HOME), else under ``$XDG_DATA_HOME/nautilus``."""
    if home:
        return Path(home) / "nautilus.db"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "nautilus" / "nautilus.db"


class KubeSettings(BaseSettings):
    """The settings of Kubernetes API clients (also read by ``kube/`` for clients that providers build)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, validate_default=True,
                                      populate_by_name=True)

    #: attempts per API call (0 or 1: no retry)
    kube_retries: int = Field(5, ge=0, le=100, validation_alias=AliasChoices("NAUTILUS_KUBE_RETRIES", "kube_retries"))
    #: read timeout of API calls (the connect timeout is at most 5 s, or this when shorter)
    kube_timeout: Seconds = Field(30.0, le=3600, validation_alias=AliasChoices("NAUTILUS_KUBE_TIMEOUT",
                                                                               "kube_timeout"))
    #: kubeconfig file(s) (``a:b`` like kubectl; the providers read every file, a client the first)
    kubeconfig: str | None = None
    #: set by Kubernetes in every pod: the in-cluster provider finds its cluster here
    kubernetes_service_host: str | None = None
    kubernetes_service_port: int = Field(443, ge=1, le=65535)
    #: the in-cluster provider's name for the cluster it runs in
    nautilus_cluster_name: str = Field("in-cluster", min_length=1)


class PluginSettings(BaseSettings):
    """Which plugins to load (read by ``plugins.build_plugin_manager`` before the other settings)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, validate_default=True,
                                      populate_by_name=True)

    #: plugin names to skip, comma-separated
    disable_plugins: CommaList = Field(
        default_factory=list, validation_alias=AliasChoices("NAUTILUS_DISABLE_PLUGINS", "disable_plugins"))


class Settings(KubeSettings, PluginSettings):
    """Every setting of Nautilus. Environment names are the field names in upper case."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, validate_default=True,
                                      populate_by_name=True)

    # database
    #: where the default SQLite database lives (``nautilus.db`` in it)
    nautilus_home: Path | None = Field(None, validation_alias=AliasChoices("NAUTILUS_HOME", "nautilus_home"))
    database_url: SecretStr | None = Field(None, description="SQLAlchemy URL; wins over DB_*")
    db_host: str | None = None
    db_port: int = Field(5432, ge=1, le=65535)
    db_user: str | None = None
    db_password: SecretStr | None = None
    db_name: str = "nautilus"
    db_ssl_mode: SslMode | None = None
    #: the seed's switch: true -> sslmode=require, false -> sslmode=disable (DB_SSL_MODE wins when both are set)
    db_ssl: bool | None = None

    # logging
    log_level: LogLevel = "INFO"
    log_format: Literal["json", "text"] | None = None

    # Kubernetes access (KUBECONFIG and the in-cluster variables: see KubeSettings)
    in_cluster: bool = False
    #: the namespace this process runs in (the downward API sets it): where the controller's Lease lives
    pod_namespace: str = Field("default", min_length=1)

    # controller (issue: controller runtime)
    watch_all_namespaces: bool = False
    namespace_prefix: str = ""
    reconcile_interval: Seconds = 30.0
    worker_count: int = Field(5, ge=1, le=256)
    max_retries: int = Field(3, ge=0, le=1000)
    backoff_base: Seconds = 5.0
    backoff_max: Seconds = 300.0
    enable_metrics: bool = True
    metrics_port: int = Field(9090, ge=0, le=65535)
    enable_health_check: bool = True
    health_check_port: int = Field(8080, ge=0, le=65535)
    #: address the health and metrics servers listen on (0.0.0.0 in a pod)
    bind_address: str = "127.0.0.1"

    # leader election (coordination.k8s.io Lease)
    lease_duration: Seconds = 15.0
    renew_deadline: Seconds = 10.0
    retry_period: Seconds = 2.0

    # inventory
    providers: Annotated[list[str] | None, NoDecode] = Field(
        None, validation_alias=AliasChoices("NAUTILUS_PROVIDERS", "providers"),
        description="providers to sync, comma-separated (default: every registered one)")
    inventory_concurrency: int = Field(4, ge=1, le=256)
    tombstone_retention_days: float = Field(30.0, ge=0, le=MAX_RETENTION_DAYS, allow_inf_nan=False)

    @field_validator("providers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()] or None
        return value

    @field_validator("db_ssl", mode="before")
    @classmethod
    def _blank_ssl_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("nautilus_home", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", "db_ssl_mode", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value

    @model_validator(mode="after")
    def _backoff_order(self) -> Settings:
        if self.backoff_base > self.backoff_max:
            raise ValueError(f"BACKOFF_BASE ({format_duration(self.backoff_base)}) must not exceed "
                             f"BACKOFF_MAX ({format_duration(self.backoff_max)})")
        return self

    # ------------------------------------------------------------------ database URL

    def database_url_value(self) -> str:
        """The URL to connect with (contains the password: never log it, use ``redacted_url``)."""
        if self.database_url is not None:
            return _normalise_url(self.database_url.get_secret_value())
        if self.db_host:
            user = quote(self.db_user or "", safe="")
            password = quote(self.db_password.get_secret_value(), safe="") if self.db_password else ""
            auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
            url = f"postgresql+psycopg://{auth}{self.db_host}:{self.db_port}/{quote(self.db_name, safe='')}"
            mode = self.db_ssl_mode or {True: "require", False: "disable", None: None}[self.db_ssl]
            if mode:
                url += f"?sslmode={mode}"
            return url
        return f"sqlite:///{default_sqlite_path(self.nautilus_home)}"

    def redacted_url(self) -> str:
        """The database URL with its password and secret query parameters masked (for output)."""
        return redact_url(self.database_url_value())


def _normalise_url(url: str) -> str:
    """Let users write ``postgresql://`` or ``postgres://``: we drive PostgreSQL through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, apply non-None ``overrides`` (CLI flags), validate.

    :raises ConfigError: naming the variable, the value given and what is accepted.
    """
    return _validated(Settings, overrides)


def kube_settings() -> KubeSettings:
    """Only the Kubernetes client settings (NAUTILUS_KUBE_RETRIES, NAUTILUS_KUBE_TIMEOUT, KUBECONFIG,
    KUBERNETES_SERVICE_HOST/PORT, NAUTILUS_CLUSTER_NAME) from the environment.

    :raises ConfigError: naming the variable.
    """
    return _validated(KubeSettings, {})


def section_env_prefix(cls: type[BaseSettings]) -> str:
    """The environment prefix of a plugin's settings section (``model_config["env_prefix"]``), upper case."""
    return str(cls.model_config.get("env_prefix") or "").upper()


def section_name(cls: type[BaseSettings]) -> str:
    """A section's name: its ``section_name`` class attribute, else its prefix without ``NAUTILUS_``
    (``NAUTILUS_EKS_`` -> ``eks``)."""
    explicit = getattr(cls, "section_name", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    return section_env_prefix(cls).removeprefix("NAUTILUS_").strip("_").lower().replace("_", "-")


def load_section(cls: type[_S]) -> _S:
    """Read one plugin settings section from the environment and validate it.

    :raises ConfigError: naming the variable (prefix included), the value given and what is accepted.
    """
    return _validated(cls, {})


def _env_name(model: type[BaseSettings], field: str) -> str:
    """The environment variable a user sets for ``field`` of ``model``."""
    if model in (Settings, KubeSettings, PluginSettings) and field in _ENV_NAMES:
        return _ENV_NAMES[field]
    info = model.model_fields.get(field)
    if info is None and (field.isupper() or any(
            isinstance(f.validation_alias, AliasChoices) and field in f.validation_alias.choices
            for f in model.model_fields.values())):
        return field.upper()  # the error's location is the alias the value came in by: what the user set
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, str):
        return alias.upper()
    if isinstance(alias, AliasChoices):
        for choice in alias.choices:
            if isinstance(choice, str) and choice.isupper():
                return choice
    if info is not None and isinstance(info.alias, str):
        return info.alias.upper()
    return (section_env_prefix(model) + field).upper() if field else ""


def plugin_settings() -> PluginSettings:
    """Only NAUTILUS_DISABLE_PLUGINS from the environment (the plugin manager is built before the rest)."""
    return _validated(PluginSettings, {})


_ENV_NAMES = {"disable_plugins": "NAUTILUS_DISABLE_PLUGINS",
              "kube_retries": "NAUTILUS_KUBE_RETRIES", "kube_timeout": "NAUTILUS_KUBE_TIMEOUT",
              "providers": "NAUTILUS_PROVIDERS", "nautilus_home": "NAUTILUS_HOME"}


def _validated(model: type[_S], overrides: dict[str, Any]) -> _S:
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return model(**clean)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            name = _env_name(model, field)
            given = err.get("input")
            secret = any(w in name for w in ("PASSWORD", "URL", "TOKEN", "SECRET", "KEY")) or (
                field in model.model_fields and model.model_fields[field].annotation in (SecretStr, SecretStr | None))
            shown = "***" if secret else repr(given)
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}={shown}: {message}" if name else message)
        raise ConfigError("invalid setting: " + "; ".join(problems)) from None
