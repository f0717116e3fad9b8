"""``nautilus controller``: run reconcilers (``run``) and retry a parked resource (``retry``).

Every setting comes from the seed's environment variables; flags override them.
"""

from __future__ import annotations

import click

from nautilus_core.cli.output import Duration, pass_state

SCALING_OPERATOR_METRICS_PORT = 8000


@click.group("controller")
def controller_group() -> None:
    """Run the reconciliation controller.

    \b
    Examples:
      nautilus controller run
      nautilus controller run -r statefulsets --worker-count 10
      nautilus controller retry payments/ledger
    """


@controller_group.command("run")
@click.option("-r", "--reconciler", "reconcilers", multiple=True, metavar="NAME",
              help="Run only this reconciler (repeatable; default: all registered).")
@click.option("--worker-count", type=click.IntRange(1, 256), help="Workers per reconciler (WORKER_COUNT, 5).")
@click.option("--reconcile-interval", type=Duration(), metavar="DURATION",
              help="Resync period, e.g. 30s or 5m (RECONCILE_INTERVAL, 30s).")
@click.option("--max-retries", type=click.IntRange(0, 1000), help="Retries before a key is parked (MAX_RETRIES, 3).")
@click.option("--backoff-base", type=Duration(), metavar="DURATION", help="First retry delay (BACKOFF_BASE, 5s).")
@click.option("--backoff-max", type=Duration(), metavar="DURATION", help="Longest retry delay (BACKOFF_MAX, 5m).")
@click.option("--namespace-prefix", help="Prefix of team namespaces (NAMESPACE_PREFIX).")
@click.option("--watch-all-namespaces/--watch-team-namespaces", default=None,
              help="One cluster-wide watch instead of one per team namespace (WATCH_ALL_NAMESPACES).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), help="Prometheus /metrics port (METRICS_PORT, 9090).")
@click.option("--health-check-port", type=click.IntRange(0, 65535),
              help="/healthz and /readyz port (HEALTH_CHECK_PORT, 8080).")
@click.option("--enable-metrics/--disable-metrics", default=None, help="Serve /metrics (ENABLE_METRICS).")
@click.option("--enable-health-check/--disable-health-check", default=None,
              help="Serve /healthz and /readyz (ENABLE_HEALTH_CHECK).")
@click.option("--leader-election/--no-leader-election", default=True, show_default=True,
              help="Elect a leader with a coordination.k8s.io Lease so several replicas are safe.")
@click.option("--lease-namespace", envvar="POD_NAMESPACE", help="Namespace of the Lease (POD_NAMESPACE, default).")
@click.option("--identity", envvar="POD_NAME", help="This replica's identity in the Lease (POD_NAME, host-pid).")
@click.option("--grace-period", type=Duration(allow_zero=True), default="30s", show_default=True,
              metavar="DURATION", help="Time in-flight reconciles get to finish on SIGTERM (0: none).")
@pass_state
def run_command(state, reconcilers, leader_election, lease_namespace, identity, grace_period, **flags) -> None:
    """Reconcile until SIGTERM/SIGINT, then finish in-flight work, release the Lease and exit 0.

    \b
    Examples:
      nautilus controller run
      DATABASE_URL=postgresql://... nautilus controller run -r statefulsets
      nautilus controller run --no-leader-election --metrics-port 0
    """
    from nautilus_core.api import Nautilus
    from nautilus_core.config import load_settings

    settings = load_settings(log_level=state.log_level, log_format=state.log_format, **flags)
    if tuple(reconcilers) == ("intelligent-scaling",) and "metrics_port" not in settings.model_fields_set:
        # run as the scaling operator alone: its seed served /metrics on 8000
        settings = settings.model_copy(update={"metrics_port": SCALING_OPERATOR_METRICS_PORT})
    app = Nautilus(settings, plugins=state.plugins)
    try:
        code = app.run_controller(reconcilers, leader_election=leader_election, lease_namespace=lease_namespace,
                                  identity=identity, grace_period=grace_period)
    finally:
        app.close()
    if code:
        raise click.exceptions.Exit(code)


@controller_group.command("retry")
@click.argument("key", metavar="TEAM/NAME")
@pass_state
def retry_command(state, key: str) -> None:
    """Clear a resource's failed (parked) mark so the controller tries it again.

    \b
    Example:
      nautilus controller retry payments/ledger
    """
    if "/" not in key:
        raise click.BadParameter(f"{key!r}: expected TEAM/NAME", param_hint="TEAM/NAME")
    if not state.app.retry_resource(key):
        raise click.ClickException(f"no managed resource {key}")
    click.echo(f"{key}: will be retried")
