"""The IntelligentScaling model: bad specs name the field; the generated CRDs are valid Kubernetes objects."""

from __future__ import annotations

import pytest

from nautilus_core.errors import InvalidObjectError
from nautilus_core.scaling.model import crds, parse_spec


def resource(**spec):
    base = {"namespace": "shop", "target_labels": {"app": "web"}, "min_replicas": 1, "max_replicas": 5,
            "metrics_config": {"prometheus_url": "http://prometheus:9090",
                               "metrics": [{"query": "sum(rate(http_requests_total[1m]))", "threshold": 100}]}}
    return {"metadata": {"namespace": "ops", "name": "web"}, "spec": base | spec}


def test_the_seed_spec_parses_with_defaults():
    spec = parse_spec(resource())
    assert (spec.engine, spec.polling_interval, spec.dry_run) == ("threshold", 30, False)
    assert spec.metrics_config.metrics[0].condition == "gt"


@pytest.mark.parametrize(("spec", "field", "words"), [
    ({"min_replicas": 6}, "spec", "greater than max_replicas"),
    ({"min_replicas": -1}, "spec.min_replicas", "greater than or equal to 0"),
    ({"metrics_config": {"prometheus_url": "http://p", "metrics": []}}, "spec.metrics_config.metrics", "at least 1"),
    ({"metrics_config": {"prometheus_url": "ftp://p", "metrics": [{"query": "q", "threshold": 1}]}},
     "spec.metrics_config.prometheus_url", "pattern"),
    ({"namespace": "Not_A_Namespace"}, "spec.namespace", "pattern"),
    ({"behavior": {"scaleUp": {"selectPolicy": "Sometimes"}}}, "spec.behavior.scaleUp.selectPolicy", "Max"),
    ({"unknown": 1}, "spec.unknown", "not permitted"),
])
def test_bad_specs_name_the_object_and_field(spec, field, words):
    with pytest.raises(InvalidObjectError) as info:
        parse_spec(resource(**spec))
    assert info.value.obj == "IntelligentScaling ops/web"
    assert info.value.field == field and words in info.value.problem


def test_both_crds_are_valid_for_the_supported_kubernetes_versions():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    nautilus, seed = crds()
    assert nautilus["metadata"]["name"] == "intelligentscalings.nautilus.io"
    assert seed["metadata"]["name"] == "intelligentscalings.nimbusguard.io"
    assert nautilus["spec"]["versions"][0]["schema"] == seed["spec"]["versions"][0]["schema"]
    for version in ("1.30", "1.31", "1.32"):
        for crd in (nautilus, seed):
            kubernetes_validate.validate(crd, version, strict=True)
    columns = [c["name"] for c in nautilus["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert columns == ["Targets", "Current", "Desired", "Engine", "Last Decision"]
