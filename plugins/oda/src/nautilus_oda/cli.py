"""``nautilus oda``: run the collector, check its connections, list and sync ODA Components.

Added to the ``nautilus`` group by :mod:`nautilus_oda.plugin` (``nautilus_register_commands``). Thin:
the work is the reconciler's (``reconciler.py``), the model's and the registry client's. Settings are
the seed's environment variables (``OdaSettings``); the API key is never printed.
"""

from __future__ import annotations

import json
from typing import Any

import click

from nautilus_core.cli.output import Duration, pass_state, table


@click.group("oda")
def oda_group() -> None:
    """Keep a Component Registry in step with the ODA Components in Kubernetes.

    \b
    Examples:
      nautilus oda test
      nautilus oda list --namespace components
      nautilus oda sync prodcat --namespace components
      COMPONENT_REGISTRY_URL=http://registry:8000 nautilus oda run
    """


def _oda(state: Any) -> Any:
    from nautilus_oda.settings import OdaSettings

    return state.plugins.settings_section(OdaSettings)


def _settings(state: Any, oda: Any) -> Any:
    """The core settings with the collector's MONITORING_* and KUBERNETES_IN_CLUSTER applied."""
    update: dict[str, Any] = {"health_check_port": oda.monitoring_port, "metrics_port": oda.monitoring_port,
                              "enable_metrics": oda.monitoring_enabled, "enable_health_check": True}
    if oda.kubernetes_in_cluster:
        update["in_cluster"] = True
    return state.settings.model_copy(update=update)


def _kube(state: Any, oda: Any) -> Any:
    from nautilus_core.api import Nautilus

    return Nautilus(_settings(state, oda), plugins=state.plugins).kube()


def _reconciler(state: Any, oda: Any, kube: Any, registry: Any, *, namespace: str | None = None) -> Any:
    """The reconciler outside the runtime: every read is a request (no informers)."""
    from nautilus_core.controller.cache import InformerCache
    from nautilus_core.types import ControllerContext
    from nautilus_oda.reconciler import OdaReconciler

    ctx = ControllerContext(settings=state.settings, engine=None, kube=kube, cache=InformerCache(kube),  # type: ignore[arg-type]
                            plugins=state.plugins)
    settings = oda if namespace is None else oda.model_copy(update={"kubernetes_namespace": namespace})
    return OdaReconciler(ctx, registry=registry, settings=settings, check_crds=False)


def _registry(oda: Any) -> Any:
    from nautilus_oda.registry import build_registry

    return build_registry(oda)


@oda_group.command("run")
@click.option("--leader-election/--no-leader-election", default=True, show_default=True,
              help="Elect a leader with a coordination.k8s.io Lease so several replicas are safe.")
@click.option("--lease-namespace", envvar="POD_NAMESPACE", help="Namespace of the Lease (POD_NAMESPACE, default).")
@click.option("--identity", envvar="POD_NAME", help="This replica's identity in the Lease (POD_NAME, host-pid).")
@click.option("--grace-period", type=Duration(allow_zero=True), default="30s", show_default=True,
              metavar="DURATION", help="Time in-flight syncs get to finish on SIGTERM (0: none).")
@pass_state
def run_command(state: Any, leader_election: bool, lease_namespace: str | None, identity: str | None,
                grace_period: float) -> None:
    """Run the collector (the oda-components reconciler) until SIGTERM/SIGINT.

    /metrics, /healthz and /readyz are served on MONITORING_PORT (8080; MONITORING_ENABLED=false
    serves only the health endpoints).

    \b
    Examples:
      COMPONENT_REGISTRY_URL=http://registry:8000 COMPONENT_REGISTRY_API_KEY=... nautilus oda run
      KUBERNETES_NAMESPACE=components SYNC_INTERVAL=5m nautilus oda run --no-leader-election
    """
    from nautilus_core.api import Nautilus

    oda = _oda(state)
    app = Nautilus(_settings(state, oda), plugins=state.plugins)
    try:
        code = app.run_controller(["oda-components"], leader_election=leader_election,
                                  lease_name="nautilus-oda-collector", lease_namespace=lease_namespace,
                                  identity=identity, grace_period=grace_period)
    finally:
        app.close()
    if code:
        raise click.exceptions.Exit(code)


@oda_group.command("test")
@pass_state
def test_command(state: Any) -> None:
    """Check Kubernetes, the ODA CRDs and the registry: one PASS/FAIL line each; exit 1 on a failure.

    \b
    Example:
      COMPONENT_REGISTRY_URL=http://registry:8000 nautilus oda test
    """
    from nautilus_oda.reconciler import served
    from nautilus_oda.registry.base import RegistryAuthError, RegistryError

    oda = _oda(state)
    results: list[tuple[bool, str, str]] = []
    kube = None
    try:
        kube = _kube(state, oda)
        version = kube.version().get("gitVersion", "?")
        results.append((True, "kubernetes", f"reachable at {kube.host} ({version})"))
    except Exception as exc:
        results.append((False, "kubernetes", f"unreachable: {_first_line(exc)}"))
        kube = None
    group, ver = oda.oda_component_group, oda.oda_component_version
    if kube is None:
        results.append((False, "crds", "not checked: Kubernetes is unreachable"))
    else:
        try:
            missing = {"components", "exposedapis"} - served(kube, group, ver)
            if missing:
                results.append((False, "crds", ", ".join(f"{p}.{group}" for p in sorted(missing))
                                + f" not served in version {ver} (ODA_COMPONENT_VERSION)"))
            else:
                results.append((True, "crds", f"components.{group} and exposedapis.{group} serve {ver}"))
        except Exception as exc:
            results.append((False, "crds", f"discovery failed: {_first_line(exc)}"))
        finally:
            kube.close()
    try:
        registry = _registry(oda)
        registry.check()
        results.append((True, "registry", f"{oda.component_registry_type} at {oda.component_registry_url} "
                        "reachable, API key accepted"))
    except RegistryAuthError as exc:
        results.append((False, "registry", f"the API key was refused: {_first_line(exc)}"))
    except RegistryError as exc:
        results.append((False, "registry", f"unreachable: {_first_line(exc)}"))
    for ok, name, message in results:
        click.echo(f"{'PASS' if ok else 'FAIL'}  {name}: {_hide(message, oda)}")
    if not all(ok for ok, _n, _m in results):
        raise click.exceptions.Exit(1)


@oda_group.command("list")
@click.option("-n", "--namespace", help="Only this namespace (default: KUBERNETES_NAMESPACE, else all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_state
def list_command(state: Any, namespace: str | None, as_json: bool) -> None:
    """List the ODA Components in Kubernetes, their APIs, and whether the registry holds them as they are.

    REGISTRY is in-sync, differs, missing, invalid (the Component is malformed: see ERROR) or
    unknown (the registry could not be read; a warning says why).

    \b
    Examples:
      nautilus oda list
      nautilus oda list --namespace components --json | jq '.[].apis'
    """
    from nautilus_core.errors import InvalidObjectError
    from nautilus_oda.model import belongs_to, component_entry, registry_name
    from nautilus_oda.registry.base import RegistryError

    oda = _oda(state)
    api_version = f"{oda.oda_component_group}/{oda.oda_component_version}"
    ns = namespace or oda.namespace
    kube = _kube(state, oda)
    try:
        components = list(kube.list(api_version, "components", namespace=ns))
        exposed = list(kube.list(api_version, "exposedapis", namespace=ns))
    finally:
        kube.close()
    owned: dict[str, Any] | None = None
    try:
        owned = _registry(oda).list_owned()
    except RegistryError as exc:
        click.echo(f"warning: registry not read: {_hide(_first_line(exc), oda)}", err=True)
    rows: list[dict[str, Any]] = []
    for obj in sorted(components, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])):
        meta = obj["metadata"]
        cns, name = meta.get("namespace", ""), meta["name"]
        row: dict[str, Any] = {"namespace": cns, "name": name,
                               "registry_name": registry_name(cns, name, oda.all_namespaces),
                               "labels": {}, "apis": [], "registry": "unknown", "error": None}
        try:
            entry = component_entry(obj, [e for e in exposed if (e.get("metadata") or {}).get("namespace") == cns
                                          and belongs_to(e, name)], all_namespaces=oda.all_namespaces)
        except InvalidObjectError as exc:
            row.update(registry="invalid", error=str(exc))
            rows.append(row)
            continue
        row["labels"] = dict(entry.labels)
        row["apis"] = [{"name": a.name, "segment": a.segment, "url": a.url, "status": a.status,
                        "specification": list(a.specification), "api_type": a.api_type, "labels": dict(a.labels)}
                       for a in entry.apis]
        if owned is not None:
            held = owned.get(entry.name)
            row["registry"] = "missing" if held is None else ("in-sync" if _same(entry, held, oda) else "differs")
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no ODA Components ({api_version}) in {('namespace ' + ns) if ns else 'any namespace'}")
        return
    click.echo(table([(r["namespace"], r["name"], r["labels"].get("version", "-"),
                       r["labels"].get("functionalBlock", "-"),
                       f"{sum(a['status'] == 'ready' for a in r['apis'])}/{len(r['apis'])}", r["registry"],
                       r["error"] or "") for r in rows],
                     ["namespace", "name", "version", "functional block", "apis ready", "registry", "error"]))


@oda_group.command("sync")
@click.argument("name")
@click.option("-n", "--namespace", help="The Component's namespace (default: KUBERNETES_NAMESPACE, else default).")
@pass_state
def sync_command(state: Any, name: str, namespace: str | None) -> None:
    """Bring one Component's registry entry in step now (create, update, or remove it if the Component is gone).

    \b
    Example:
      nautilus oda sync prodcat --namespace components
    """
    from nautilus_core.errors import InvalidObjectError
    from nautilus_oda.registry.base import RegistryError

    oda = _oda(state)
    ns = namespace or oda.namespace or "default"
    kube = _kube(state, oda)
    try:
        reconciler = _reconciler(state, oda, kube, _registry(oda))
        what, writes = reconciler.sync_component(ns, name)
    except InvalidObjectError as exc:
        raise click.ClickException(f"not synced: {exc}") from None
    except RegistryError as exc:
        raise click.ClickException(f"registry: {_hide(_first_line(exc), oda)}") from None
    finally:
        kube.close()
    if what == "absent":
        raise click.ClickException(f"no Component {ns}/{name} and no registry entry for it")
    click.echo(f"component {ns}/{name}: {what} ({writes} registry write{'s' if writes != 1 else ''})")


def _same(entry: Any, held: Any, oda: Any) -> bool:
    """``entry`` as the registry would store it (its limits applied) equals what it holds."""
    if entry == held:
        return True
    try:
        from nautilus_oda.registry.component_registry import LIMITS
        from nautilus_oda.registry.limits import normalize

        return bool(normalize(entry, LIMITS) == held) if oda.component_registry_type == "component-registry" else False
    except Exception:
        return False


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _hide(text: str, oda: Any) -> str:
    """Belt and braces: the API key never reaches the terminal, whatever an error quoted."""
    key = oda.api_key()
    return text.replace(key, "***") if key else text
