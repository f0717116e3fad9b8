"""``nautilus podwatch render``: the pod triage manifests with the seed's variables filled in.

Owns :data:`VARIABLES` (the seed's names, which are required, their defaults and what each accepts),
:func:`read_env_file` (``KEY=VALUE`` lines) and :func:`render` (the template shipped in
``podwatch/manifests/``: ServiceAccounts, a namespace-scoped Role and RoleBinding per target
namespace for pods, pods/log and Events, the dashboard's Deployment and Service, the collector's
CronJob). Every value is checked before it is written into YAML, so a value cannot add fields; a
missing required variable or a bad value is a :class:`ConfigError` naming it. The database password
and the dashboard token are never rendered: the pods read them from the Secret ``<APP_NAME>-secrets``.
Called by the CLI; ``deploy/podwatch/`` holds the output for ``deploy/podwatch/example.env``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from nautilus_core.errors import ConfigError

__all__ = ["VARIABLES", "read_env_file", "render"]

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$")
_HOST = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$")
_DBNAME = re.compile(r"^[A-Za-z0-9_][-A-Za-z0-9_.$]{0,62}$")
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _label(limit: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if len(value) > limit or not _LABEL.match(value):
            return f"a lower-case DNS label (a-z, 0-9, '-') of at most {limit} characters"
        return None
    return check


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[str], str | None]:
    return lambda value: None if regex.match(value) else what


def _integer(low: int, high: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value.isdigit() and low <= int(value) <= high else f"a whole number from {low} to {high}"
    return check


def _choice(*options: str) -> Callable[[str], str | None]:
    return lambda value: None if value in options else "one of " + ", ".join(options)


def _namespaces(value: str) -> str | None:
    names = [n.strip() for n in value.split(",")]
    if all(n and len(n) <= 63 and _LABEL.match(n) for n in names):
        return None
    return "namespace names (lower-case DNS labels) separated by commas"


def _cron(value: str) -> str | None:
    fields = value.split()
    if value.startswith("@") and value in ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"):
        return None
    if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
        return None
    return "a cron schedule of five fields (e.g. '*/5 * * * *') or @hourly/@daily"


@dataclass(frozen=True)
class Variable:
    name: str
    check: Callable[[str], str | None]
    default: str | None = None  # None: required

    @property
    def required(self) -> bool:
        return self.default is None


_ALL = (
    Variable("APP_NAMESPACE", _label(63)),
    Variable("APP_NAME", _label(40)),
    Variable("APP_VERSION", _pattern(_VERSION, "a label value (letters, digits, '-', '_', '.'; at most 63)")),
    Variable("APP_IMAGE", _pattern(_IMAGE, "an image reference such as ghcr.io/acme/nautilus or nautilus@sha256:...")),
    Variable("APP_REPLICAS", _integer(0, 100), "1"),
    Variable("CONTAINER_PORT", _integer(1024, 65535), "8000"),
    Variable("SERVICE_PORT", _integer(1, 65535), "80"),
    Variable("SERVICE_TYPE", _choice("ClusterIP", "NodePort", "LoadBalancer"), "ClusterIP"),
    Variable("COLLECT_SCHEDULE", _cron, "*/5 * * * *"),
    Variable("LOG_TAIL_LINES", _integer(1, 100_000), "100"),
    Variable("TARGET_NAMESPACE", _namespaces),
    Variable("DB_HOST", _pattern(_HOST, "a host name or IP address")),
    Variable("DB_PORT", _integer(1, 65535), "5432"),
    Variable("DB_NAME", _pattern(_DBNAME, "a database name (letters, digits, '_', '-', '.')")),
    Variable("DB_USER", _pattern(_DBNAME, "a user name (letters, digits, '_', '-', '.')")),
    Variable("DB_SSL", _choice("true", "false"), "true"),
    Variable("DB_SSL_MODE", lambda v: None if v == "" or v in _SSL_MODES else "one of " + ", ".join(_SSL_MODES), ""),
)
#: every variable ``render`` reads, by name
VARIABLES: dict[str, Variable] = {v.name: v for v in _ALL}

_RBAC = Template("""---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ${APP_NAME}-collector
  namespace: ${NAMESPACE}
  labels: {app.kubernetes.io/name: ${APP_NAME}, app.kubernetes.io/version: "${APP_VERSION}", \
app.kubernetes.io/component: collector}
rules:
  - apiGroups: [""]
    resources: [pods, pods/log, events]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ${APP_NAME}-collector
  namespace: ${NAMESPACE}
  labels: {app.kubernetes.io/name: ${APP_NAME}, app.kubernetes.io/version: "${APP_VERSION}", \
app.kubernetes.io/component: collector}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${APP_NAME}-collector}
subjects:
  - {kind: ServiceAccount, name: ${APP_NAME}-collector, namespace: ${APP_NAMESPACE}}
""")


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``export`` prefix, ``#`` comments, blank lines and quoted values allowed).

    :raises ConfigError: a line that is not an assignment, naming the file and line.
    """
    out: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE, got {raw.strip()[:80]!r}")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key] = value
    return out


def _values(given: Mapping[str, str]) -> dict[str, str]:
    missing = [v.name for v in _ALL if v.required and not str(given.get(v.name, "")).strip()]
    if missing:
        raise ConfigError(f"cannot render: missing required variable{'s' if len(missing) > 1 else ''} "
                          + ", ".join(missing))
    values: dict[str, str] = {}
    problems = []
    for var in _ALL:
        value = str(given.get(var.name, "")).strip() or str(var.default)
        what = var.check(value)
        if what is not None:
            shown = value if len(value) <= 80 else value[:77] + "..."
            problems.append(f"{var.name}={shown!r}: expected {what}")
        values[var.name] = value
    if problems:
        raise ConfigError("cannot render: " + "; ".join(problems))
    return values


def _db_env(values: Mapping[str, str], indent: int) -> str:
    pad = " " * indent
    items = [("DB_HOST", values["DB_HOST"]), ("DB_PORT", values["DB_PORT"]), ("DB_NAME", values["DB_NAME"]),
             ("DB_USER", values["DB_USER"]), ("DB_SSL", values["DB_SSL"])]
    if values["DB_SSL_MODE"]:
        items.append(("DB_SSL_MODE", values["DB_SSL_MODE"]))
    lines = [f'{pad}- {{name: {k}, value: "{v}"}}' for k, v in items]
    lines.append(f"{pad}- name: DB_PASSWORD")
    lines.append(f"{pad}  valueFrom: {{secretKeyRef: {{name: {values['APP_NAME']}-secrets, key: DB_PASSWORD}}}}")
    return "\n".join(lines) + "\n"


def render(given: Mapping[str, str]) -> str:
    """The manifests (one multi-document YAML) for the variables in ``given``.

    :raises ConfigError: a required variable is missing or a value is not acceptable (named).
    """
    values = _values(given)
    image = values["APP_IMAGE"]
    last = image.rsplit("/", 1)[-1]
    if "@" not in image and ":" not in last:
        image = f"{image}:{values['APP_VERSION']}"
    namespaces = list(dict.fromkeys(n.strip() for n in values["TARGET_NAMESPACE"].split(",")))
    rbac = "".join(_RBAC.substitute(values, NAMESPACE=ns) for ns in namespaces)
    template = Template(files("nautilus_core.podwatch").joinpath("manifests/podwatch.yaml.tmpl").read_text("utf-8"))
    return template.substitute(values, IMAGE=image, RBAC=rbac, TARGET_NAMESPACE=",".join(namespaces),
                               DB_ENV=_db_env(values, 12), DB_ENV_JOB=_db_env(values, 16))
