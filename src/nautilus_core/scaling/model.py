"""The ``IntelligentScaling`` custom resource: its typed spec, and the CRDs generated from it.

Owns :class:`IntelligentScalingSpec` (the seed's fields — ``namespace``, ``target_labels``,
``min_replicas``, ``max_replicas``, ``metrics_config`` — plus ``engine``, the HPA v2 ``behavior``,
``dry_run``, ``fallback``, ``polling_interval`` and Prometheus ``auth``), :func:`parse_spec` (a custom
resource's spec -> the model, or an :class:`~nautilus_core.errors.InvalidObjectError` naming the
object and field) and :func:`crds` (the two CustomResourceDefinitions, ``nautilus.io/v1alpha1`` and
the seed's ``nimbusguard.io/v1alpha1``, whose structural OpenAPI schema is generated from the model so
the two can never disagree). Used by the ``intelligent-scaling`` reconciler and
``nautilus scaling install-crd``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nautilus_core.errors import InvalidObjectError

GROUPS = ("nautilus.io", "nimbusguard.io")
VERSION = "v1alpha1"
KIND, PLURAL, SINGULAR = "IntelligentScaling", "intelligentscalings", "intelligentscaling"
SHORT_NAMES = ("iscale",)


class ScalingSettings(BaseSettings):
    """NAUTILUS_SCALING_INSTALL_CRD: the operator installs (or upgrades) its CRDs when it starts and
    they are missing (the seed's behaviour); off by default, since it needs cluster-wide CRD rights."""

    model_config = SettingsConfigDict(env_prefix="NAUTILUS_SCALING_", extra="ignore", case_sensitive=False)

    install_crd: bool = False


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Metric(_Model):
    """One PromQL query compared with a threshold: ``gt`` scales up when above, ``lt`` when below."""

    query: str = Field(min_length=1, max_length=4096)
    threshold: float
    condition: Literal["gt", "lt"] = "gt"
    name: str | None = Field(None, max_length=63, description="label of the metric in status and events")

    @model_validator(mode="after")
    def _finite(self) -> Metric:
        if not math.isfinite(self.threshold):
            raise ValueError("threshold must be a finite number")
        return self


class SecretKeyRef(_Model):
    name: str = Field(min_length=1, max_length=253)
    key: str = Field(min_length=1, max_length=253)


class PrometheusAuth(_Model):
    """Credentials and TLS for the Prometheus API, from Secrets in the resource's namespace."""

    bearer_token: SecretKeyRef | None = None
    basic_username: SecretKeyRef | None = None
    basic_password: SecretKeyRef | None = None
    ca: SecretKeyRef | None = Field(None, description="a PEM CA bundle to verify the server")
    insecure_skip_verify: bool = False

    @model_validator(mode="after")
    def _one_scheme(self) -> PrometheusAuth:
        if self.bearer_token and (self.basic_username or self.basic_password):
            raise ValueError("bearer_token and basic_* are exclusive")
        if bool(self.basic_username) != bool(self.basic_password):
            raise ValueError("basic_username and basic_password go together")
        return self


class MetricsConfig(_Model):
    prometheus_url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://")
    metrics: list[Metric] = Field(min_length=1, max_length=20)
    timeout_seconds: float = Field(5.0, gt=0, le=300)
    auth: PrometheusAuth | None = None


class Policy(_Model):
    type: Literal["Pods", "Percent"]
    value: int = Field(gt=0)
    periodSeconds: int = Field(gt=0, le=1800)


class Rules(_Model):
    """One direction of the HPA v2 ``behavior``."""

    stabilizationWindowSeconds: int | None = Field(None, ge=0, le=3600)
    selectPolicy: Literal["Max", "Min", "Disabled"] | None = None
    policies: list[Policy] | None = None


class Behavior(_Model):
    scaleUp: Rules | None = None
    scaleDown: Rules | None = None


class Fallback(_Model):
    """After ``failure_threshold`` consecutive metric failures, hold ``replicas``."""

    failure_threshold: int = Field(3, ge=1, le=100)
    replicas: int = Field(ge=0)


class IntelligentScalingSpec(_Model):
    namespace: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    target_labels: dict[str, str] = Field(min_length=1)
    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(ge=1)
    metrics_config: MetricsConfig
    engine: str = Field("threshold", min_length=1, max_length=63)
    behavior: Behavior | None = None
    dry_run: bool = False
    fallback: Fallback | None = None
    polling_interval: int = Field(30, ge=1, le=3600, description="seconds between decisions")

    @model_validator(mode="after")
    def _bounds(self) -> IntelligentScalingSpec:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) is greater than max_replicas ({self.max_replicas})")
        if self.fallback and not self.min_replicas <= self.fallback.replicas <= self.max_replicas:
            raise ValueError("fallback.replicas must be within min_replicas..max_replicas")
        return self


def parse_spec(obj: dict[str, Any]) -> IntelligentScalingSpec:
    """The typed spec of an IntelligentScaling object.

    :raises InvalidObjectError: naming the object (``namespace/name``) and the first bad field.
    """
    meta = obj.get("metadata") or {}
    where = f"IntelligentScaling {meta.get('namespace', '')}/{meta.get('name', '')}"
    try:
        return IntelligentScalingSpec.model_validate(obj.get("spec") or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in ("spec", *err["loc"]))
        raise InvalidObjectError(where, field, err["msg"]) from None


# --------------------------------------------------------------------------- CRDs


def _structural(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """pydantic's JSON schema -> a structural OpenAPI v3 schema (refs inlined, nullable, no titles)."""
    if "$ref" in schema:
        return _structural(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:  # X | None
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        inner = _structural(options[0], defs)
        inner["nullable"] = True
        if "description" in schema:
            inner["description"] = schema["description"]
        if "default" in schema and schema["default"] is not None:
            inner["default"] = schema["default"]
        return inner
    out: dict[str, Any] = {}
    kind = schema.get("type")
    if "enum" in schema:
        out["type"] = kind or "string"
        out["enum"] = list(schema["enum"])
    elif "const" in schema:
        out["type"] = kind or "string"
        out["enum"] = [schema["const"]]
    elif kind == "object" and "properties" in schema:
        out["type"] = "object"
        out["properties"] = {k: _structural(v, defs) for k, v in schema["properties"].items()}
        if schema.get("required"):
            out["required"] = list(schema["required"])
    elif kind == "object":
        out["type"] = "object"
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            out["additionalProperties"] = _structural(extra, defs)
    elif kind == "array":
        out["type"] = "array"
        out["items"] = _structural(schema.get("items", {}), defs)
    elif kind:
        out["type"] = kind
    for key in ("description", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
                "maxLength", "pattern", "minItems", "maxItems", "minProperties", "default"):
        if key in schema and not (key == "default" and schema[key] is None):
            out[key] = schema[key]
    for key in ("exclusiveMinimum", "exclusiveMaximum"):  # JSON Schema numbers -> OpenAPI v3 booleans
        if isinstance(out.get(key), int | float) and not isinstance(out[key], bool):
            bound = out.pop(key)
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = bound
            out[key] = True
    return out


STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-kubernetes-preserve-unknown-fields": True,
    "properties": {
        "observedGeneration": {"type": "integer"},
        "currentReplicas": {"type": "integer"},
        "desiredReplicas": {"type": "integer"},
        "targets": {"type": "integer"},
        "lastDecisionTime": {"type": "string", "format": "date-time"},
        "lastError": {"type": "string"},
        "conditions": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    },
}

PRINTER_COLUMNS = [
    {"name": "Targets", "type": "integer", "jsonPath": ".status.targets"},
    {"name": "Current", "type": "integer", "jsonPath": ".status.currentReplicas"},
    {"name": "Desired", "type": "integer", "jsonPath": ".status.desiredReplicas"},
    {"name": "Engine", "type": "string", "jsonPath": ".spec.engine"},
    {"name": "Last Decision", "type": "date", "jsonPath": ".status.lastDecisionTime"},
]


def spec_schema() -> dict[str, Any]:
    raw = IntelligentScalingSpec.model_json_schema()
    return _structural(raw, raw.get("$defs", {}))


def crd(group: str) -> dict[str, Any]:
    """The CustomResourceDefinition of IntelligentScaling in ``group``."""
    schema = {"type": "object", "properties": {"spec": spec_schema(), "status": STATUS_SCHEMA}, "required": ["spec"]}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{group}", "labels": {"app.kubernetes.io/managed-by": "nautilus"}},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": KIND, "plural": PLURAL, "singular": SINGULAR, "shortNames": list(SHORT_NAMES),
                      "listKind": f"{KIND}List"},
            "versions": [{"name": VERSION, "served": True, "storage": True,
                          "schema": {"openAPIV3Schema": schema},
                          "subresources": {"status": {}},
                          "additionalPrinterColumns": PRINTER_COLUMNS}],
        },
    }


def crds() -> list[dict[str, Any]]:
    """Both CRDs: ``nautilus.io`` and the seed's ``nimbusguard.io`` (same schema)."""
    return [crd(group) for group in GROUPS]
