"""The ``podwatch`` settings section: what the pod triage collector reads and how the dashboard serves.

Owns :class:`PodwatchSettings`, a pydantic-settings section (prefix ``PODWATCH_``) registered by
``podwatch.plugin`` through ``nautilus_register_settings`` and validated at start-up with every other
section (a bad value exits 2 naming the variable). The seed's own names are accepted unprefixed:
``TARGET_NAMESPACE``, ``LOG_TAIL_LINES``, ``COLLECT_SCHEDULE`` and ``PODWATCH_TOKEN``. Read by the
collector (``podwatch.collect``), ``nautilus podwatch collect|render|serve`` and the web app.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from nautilus_core.config import Seconds

__all__ = ["ALL_NAMESPACES", "PodwatchSettings"]

#: ``TARGET_NAMESPACE`` value meaning every namespace of the cluster (also ``--all-namespaces``)
ALL_NAMESPACES = "*"
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")
_CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class PodwatchSettings(BaseSettings):
    """Pod triage: collector scope and bounds, triage thresholds, the dashboard's token and address."""

    model_config = SettingsConfigDict(env_prefix="PODWATCH_", extra="ignore", case_sensitive=False,
                                      validate_default=True, populate_by_name=True)

    #: namespaces to collect, comma-separated; ``*`` (or empty) for every namespace
    target_namespace: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["default"],
        validation_alias=_alias("TARGET_NAMESPACE", "PODWATCH_TARGET_NAMESPACE", "target_namespace"))
    #: the last N lines of each container's log (and of its previous instance) read per collection
    log_tail_lines: int = Field(100, ge=1, le=100_000,
                                validation_alias=_alias("LOG_TAIL_LINES", "PODWATCH_LOG_TAIL_LINES", "log_tail_lines"))
    #: the CronJob's schedule (``nautilus podwatch render``), five cron fields or a macro (@hourly)
    collect_schedule: str = Field("*/5 * * * *", validation_alias=_alias(
        "COLLECT_SCHEDULE", "PODWATCH_COLLECT_SCHEDULE", "collect_schedule"))
    #: interval of the collector when it runs inside ``podwatch serve --collect``
    collect_every: Seconds = Field(30.0, validation_alias=_alias("PODWATCH_COLLECT_EVERY", "collect_every"))
    #: bearer token protecting the API and UI (none: the server binds to 127.0.0.1 only)
    token: SecretStr | None = Field(None, validation_alias=_alias("PODWATCH_TOKEN", "token"))
    #: an initializing pod (ContainerCreating, PodInitializing, Init:i/N) older than this is degraded
    stuck_after: Seconds = Field(300.0, validation_alias=_alias("PODWATCH_STUCK_AFTER", "stuck_after"))
    #: how long a vanished pod (marked gone) is kept with its last verdict and lines before it is purged
    retention: Seconds = Field(7 * 86400.0, validation_alias=_alias("PODWATCH_RETENTION", "retention"))
    #: mask well-known secret forms (bearer tokens, password=, AWS keys, private keys) in stored lines
    mask_secrets: bool = Field(True, validation_alias=_alias("PODWATCH_MASK_SECRETS", "mask_secrets"))
    #: log requests in flight at once per cluster
    log_concurrency: int = Field(16, ge=1, le=256,
                                 validation_alias=_alias("PODWATCH_LOG_CONCURRENCY", "log_concurrency"))
    #: log entries kept per container (oldest dropped first)
    max_lines_per_container: int = Field(
        500, ge=1, le=100_000, validation_alias=_alias("PODWATCH_MAX_LINES_PER_CONTAINER", "max_lines_per_container"))
    #: pods per page when listing (``limit``/``continue``)
    page_size: int = Field(500, ge=1, le=10_000, validation_alias=_alias("PODWATCH_PAGE_SIZE", "page_size"))
    #: where ``podwatch serve`` listens (``0.0.0.0`` in a pod; refused without PODWATCH_TOKEN unless --insecure)
    host: str = Field("127.0.0.1", validation_alias=_alias("PODWATCH_HOST", "host"))
    port: int = Field(8000, ge=1, le=65535, validation_alias=_alias("PODWATCH_PORT", "CONTAINER_PORT", "port"))

    @field_validator("target_namespace", mode="before")
    @classmethod
    def _namespaces(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if isinstance(value, list | tuple):
            names = [str(v).strip() for v in value if str(v).strip()]
            if not names or ALL_NAMESPACES in names:
                return [ALL_NAMESPACES]
            bad = [n for n in names if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", n)]
            if bad:
                raise ValueError(f"{bad[0]!r} is not a namespace name (lower-case RFC 1123 label), "
                                 f"expected names separated by commas or {ALL_NAMESPACES!r} for all")
            return list(dict.fromkeys(names))
        return value

    @field_validator("collect_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        value = value.strip()
        if value in _CRON_MACROS:
            return value
        fields = value.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError(f"{value!r} is not a cron schedule: expected five fields "
                             "(minute hour day-of-month month day-of-week, e.g. '*/5 * * * *') or @hourly/@daily")
        return value

    @property
    def all_namespaces(self) -> bool:
        return self.target_namespace == [ALL_NAMESPACES]
