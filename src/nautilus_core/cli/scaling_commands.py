"""``nautilus scaling``: the IntelligentScaling CustomResourceDefinitions (``install-crd``, ``print-crd``).

Thin: the CRDs come from ``scaling.model`` (generated from the typed spec), the install from
``Nautilus.install_scaling_crds``.
"""

from __future__ import annotations

import click
import orjson

from nautilus_core.cli.output import pass_state


@click.group("scaling")
def scaling_group() -> None:
    """IntelligentScaling custom resources (the intelligent-scaling operator).

    \b
    Examples:
      nautilus scaling install-crd
      nautilus scaling print-crd > intelligentscaling-crds.json
    """


@scaling_group.command("install-crd")
@pass_state
def install_crd_command(state) -> None:
    """Install or upgrade both CRDs (nautilus.io and nimbusguard.io) with server-side apply.

    \b
    Example:
      KUBECONFIG=~/.kube/config nautilus scaling install-crd
    """
    for name in state.app.install_scaling_crds():
        click.echo(f"customresourcedefinition/{name} applied")


@scaling_group.command("print-crd")
def print_crd_command() -> None:
    """Print both CRDs as a Kubernetes List (JSON), for kubectl apply -f -.

    \b
    Example:
      nautilus scaling print-crd | kubectl apply -f -
    """
    from nautilus_core.scaling.model import crds

    doc = {"apiVersion": "v1", "kind": "List", "items": crds()}
    click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
