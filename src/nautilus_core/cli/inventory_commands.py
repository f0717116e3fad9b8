"""``nautilus inventory``: sync the fleet into the database and read it back; ``nautilus demo``.

Thin commands over ``Nautilus.sync_inventory`` / ``Nautilus.inventory`` / ``Nautilus.sync_runs``.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click

from nautilus_core.cli.output import Duration, echo_json, pass_state, pod_counts_text, table
from nautilus_core.errors import ConfigError, NautilusError
from nautilus_core.logs import redact_text


@click.group("inventory")
def inventory_group() -> None:
    """Discover clusters, enrich them from their API, keep the database in step.

    \b
    Examples:
      nautilus inventory sync
      nautilus inventory sync --provider kubeconfig --context prod-eu --every 1h
      nautilus inventory clusters --json
    """


def _progress(total_hint: list[int]) -> Any:
    if not sys.stderr.isatty():
        return None

    def show(outcome: Any) -> None:
        total_hint[0] += 1
        mark = "ok" if outcome.ok else "FAILED"
        click.echo(f"\r[{total_hint[0]}] {outcome.cluster} {mark}".ljust(72), err=True, nl=False)
    return show


@inventory_group.command("sync")
@click.option("--provider", "providers", multiple=True, metavar="NAME",
              help="Sync only this provider (repeatable; default: all registered or NAUTILUS_PROVIDERS).")
@click.option("--context", "contexts", multiple=True, metavar="NAME",
              help="Sync only the cluster with this name / kubeconfig context (repeatable).")
@click.option("--every", type=Duration(), default=None, metavar="DURATION",
              help="Run again every DURATION (30s, 15m, 1h, 1d) until interrupted.")
@click.option("--shard", default=None, metavar="I/N", help="Only clusters of shard I of N (Indexed Jobs).")
@click.option("--json", "as_json", is_flag=True, help="Print each run's report as one JSON document.")
@pass_state
def sync_command(state, providers, contexts, every, shard, as_json) -> None:
    """Discover, enrich and write the fleet; exit 1 when a provider or cluster failed.

    \b
    Examples:
      nautilus inventory sync
      nautilus inventory sync --provider eks --provider gke
      nautilus inventory sync --every 1h
    """
    app = state.app
    stop = threading.Event()
    if every:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    code = 0
    while True:
        counter = [0]
        progress = _progress(counter)
        try:
            report = app.sync_inventory(providers=providers, contexts=contexts, shard=shard, progress=progress)
        except NautilusError as exc:
            if not every or isinstance(exc, ConfigError):
                raise
            # a loop survives a failed run (database down, ...): say so and try again next time
            click.echo(f"sync failed: {redact_text(str(exc))}", err=True)
            code = 1
            if stop.wait(every):
                break
            continue
        if progress:
            click.echo("", err=True)
        if as_json:
            echo_json({"run_id": report.run_id, "status": report.status,
                       "duration_s": round(report.duration_s, 3),
                       "outcomes": [o.__dict__ | {"error": redact_text(o.error) if o.error else o.error}
                                    for o in report.outcomes],
                       "tombstoned_clusters": report.tombstoned_clusters})
        else:
            click.echo(report.summary())
            for failure in report.failures:
                click.echo(f"  {failure.cluster or 'provider ' + failure.provider}: {redact_text(failure.error or '')}",
                           err=True)
        code = 1 if report.failures else 0
        if not every or stop.wait(every):
            break
    if code:
        raise click.exceptions.Exit(code)


def _listing(kind: str, columns: list[tuple[str, Any]]) -> click.Command:
    @click.command(kind)
    @click.option("--provider", "providers", multiple=True, metavar="NAME", help="Only this provider.")
    @click.option("--cluster", "clusters", multiple=True, metavar="NAME", help="Only this cluster (name or key).")
    @click.option("--deleted", is_flag=True, help="Include tombstoned rows.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
    @pass_state
    def command(state, providers, clusters, deleted, as_json) -> None:
        rows = state.app.inventory(kind, providers=providers, clusters=clusters, include_deleted=deleted)
        if as_json:
            echo_json({kind: rows})
            return
        click.echo(table([[get(r) for _, get in columns] for r in rows], [h for h, _ in columns]))

    command.__doc__ = (f"List {kind} from the database (after `nautilus inventory sync`).\n\n"
                       f"\\b\nExamples:\n  nautilus inventory {kind}\n  nautilus inventory {kind} --json\n")
    command.help = command.__doc__
    return command


def _ports(row: dict[str, Any]) -> str:
    out = []
    for p in row.get("ports") or ():
        text = f"{p.get('port')}:{p['nodePort']}" if p.get("nodePort") else str(p.get("port"))
        out.append(f"{text}/{p.get('protocol') or 'TCP'}")
    return ",".join(out) or "<none>"


def _node_state(row: dict[str, Any]) -> str:
    state = {True: "Ready", False: "NotReady", None: "Unknown"}[row.get("ready")]
    extra = [name for name, col in (("MemoryPressure", "memory_pressure"), ("DiskPressure", "disk_pressure"),
                                    ("PIDPressure", "pid_pressure"), ("SchedulingDisabled", "unschedulable"))
             if row.get(col)]
    return ",".join([state, *extra])


LISTINGS = [
    _listing("clusters", [
        ("provider", lambda r: r["provider"]), ("name", lambda r: r["name"]),
        ("location", lambda r: r["location"] or "-"), ("version", lambda r: r["kubernetes_version"] or "-"),
        ("nodes", lambda r: f"{r['ready_node_count'] or 0}/{r['node_count'] or 0}"),
        ("pods", lambda r: pod_counts_text(r["pod_counts"])), ("owner", lambda r: r["owner"] or "-"),
    ]),
    _listing("namespaces", [
        ("cluster", lambda r: r["cluster"]), ("name", lambda r: r["name"]), ("phase", lambda r: r["phase"]),
        ("pods", lambda r: pod_counts_text(r["pod_counts"])),
    ]),
    _listing("nodes", [
        ("cluster", lambda r: r["cluster"]), ("name", lambda r: r["name"]), ("status", _node_state),
        ("version", lambda r: r["kubelet_version"]), ("instance-type", lambda r: r["instance_type"]),
        ("zone", lambda r: r["zone"]),
    ]),
    _listing("services", [
        ("cluster", lambda r: r["cluster"]), ("namespace", lambda r: r["namespace"]),
        ("name", lambda r: r["name"]), ("type", lambda r: r["type"]),
        ("cluster-ip", lambda r: r["cluster_ip"]), ("external", lambda r: r["external_address"] or "<none>"),
        ("ports", _ports),
    ]),
]
for _cmd in LISTINGS:
    inventory_group.add_command(_cmd)


@inventory_group.command("runs")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10000),
              help="How many runs to show, newest first (1-10000).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@pass_state
def runs_command(state, limit, as_json) -> None:
    """List recent sync runs with their per-provider and per-cluster outcomes.

    \b
    Examples:
      nautilus inventory runs
      nautilus inventory runs --json --limit 1
    """
    runs = state.app.sync_runs(limit)
    if as_json:
        echo_json({"runs": runs})
        return
    rows = []
    for run in runs:
        failed = [o["cluster_key"] or o["provider"] for o in run["outcomes"] if o["status"] != "ok"]
        clusters = sum(1 for o in run["outcomes"] if o["cluster_key"])
        rows.append([run["id"], run["started_at"], run["status"], clusters, ",".join(failed) or "-"])
    click.echo(table(rows, ["run", "started", "status", "clusters", "failed"]))


@click.command("demo")
@click.option("--clusters", default=3, show_default=True, type=click.IntRange(1, 20),
              help="How many emulated clusters to start.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--serve", is_flag=True,
              help="Collect the fleet's pods and serve the pod triage dashboard on 127.0.0.1 until interrupted.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="With --serve: the dashboard's port (0: any free port).")
@pass_state
def demo_command(state, clusters, as_json, serve, port) -> None:
    """Start an emulated fleet, sync it into the database, print the fleet (or serve its dashboard).

    Uses the configured database (SQLite under $NAUTILUS_HOME by default) and the Kubernetes API
    emulator of the test kit: several clusters as kubeconfig contexts with realistic pod states.
    With --serve the podwatch collector runs on the fleet and the pod triage dashboard is served on
    127.0.0.1 (Ctrl-C stops it).

    \b
    Examples:
      nautilus demo
      nautilus demo --clusters 5 --json
      nautilus demo --serve                 # then open http://127.0.0.1:8000
    """
    app = state.app
    if serve:
        if as_json:
            raise click.UsageError("--json and --serve are exclusive")
        app.serve_demo(clusters if "clusters" in _given(state) else 1, port=port,
                       on_ready=lambda url: click.echo(f"Pod triage dashboard on the emulated fleet: {url}"))
        return
    result = app.demo(clusters)
    if as_json:
        echo_json({"run_id": result.report.run_id, "status": result.report.status,
                   "clusters": result.clusters, "namespaces": result.namespaces})
        return
    click.echo(result.report.summary())
    click.echo(f"database: {app.settings.redacted_url()}\n")
    click.echo(table([[c["name"], c["kubernetes_version"], f"{c['ready_node_count']}/{c['node_count']}",
                       sum(1 for n in result.namespaces if n["cluster"] == c["name"]),
                       sum((c["pod_counts"] or {}).values()), pod_counts_text(c["pod_counts"], limit=6)]
                      for c in result.clusters],
                     ["cluster", "version", "nodes ready", "namespaces", "pods", "pods by status"]))
    click.echo("")
    click.echo(table([[n["cluster"], n["name"], n["phase"], pod_counts_text(n["pod_counts"], limit=6)]
                      for n in result.namespaces], ["cluster", "namespace", "phase", "pods by status"]))
    click.echo("\nNext: nautilus inventory clusters | namespaces | nodes | services | runs")
    if result.report.failures:
        for failure in result.report.failures:
            click.echo(f"  {failure.cluster or 'provider ' + failure.provider}: {redact_text(failure.error or '')}",
                       err=True)
        raise click.exceptions.Exit(1)


def _given(state) -> set[str]:
    """The options typed on the command line (not defaulted) of the current command."""
    ctx = click.get_current_context()
    return {name for name in ctx.params if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE}
