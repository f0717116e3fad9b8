"""ODA Component / ExposedAPI custom resources -> registry entries (``nautilus_oda.model``), every CRD shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oda_crs import exposed, v1, v1beta3

from nautilus_core.errors import InvalidObjectError
from nautilus_oda.model import component_entry


def test_v1beta3_component_labels_and_apis() -> None:
    entry = component_entry(v1beta3())
    assert entry.name == "prodcat"
    assert dict(entry.labels) == {"componentName": "prodcat", "team": "catalog", "version": "1.2.0",
                                  "functionalBlock": "CoreCommerce", "publicationDate": "2024-05-01",
                                  "status": "specified", "owners": "Ann Owner <ann@example.org>", "maintainers": "Bob"}
    by_name = {a.name: a for a in entry.apis}
    assert set(by_name) == {"productcatalogmanagement", "metrics", "partyrole"}
    pcm = by_name["productcatalogmanagement"]
    assert (pcm.segment, pcm.api_type, pcm.specification) == ("coreFunction", "openapi",
                                                              ("https://example.org/TMF620.json",))
    assert dict(pcm.labels) == {}  # implementation, path and port stay in the cluster: the URL is what matters
    assert component_entry(v1beta3(coreFunction={"exposedAPIs": [
        {"name": "x", "apiType": "openapi", "implementation": "s", "path": "/x", "port": 80,
         "developerUI": "https://gw/x/docs"}]})).api("x").labels == {"developerUI": "https://gw/x/docs"}
    assert by_name["metrics"].segment == "managementFunction" and by_name["partyrole"].segment == "securityFunction"
    assert all(a.status == "pending" and a.url is None for a in entry.apis)  # nothing published yet


def test_v1_metadata_under_component_metadata_and_specification_objects() -> None:
    entry = component_entry(v1())
    assert entry.labels["version"] == "2.0.1" and entry.labels["functionalBlock"] == "PartyManagement"
    assert entry.labels["owners"] == "Cy <cy@example.org>"
    (api,) = entry.apis
    assert api.specification == ("https://example.org/TMF632-v5.json", "https://example.org/TMF632-v4.json")


def test_v1beta4_specification_objects_with_top_level_metadata() -> None:
    obj = v1beta3()
    obj["apiVersion"] = "oda.tmforum.org/v1beta4"
    obj["spec"]["coreFunction"]["exposedAPIs"][0]["specification"] = [{"url": "https://example.org/a.json",
                                                                       "version": "v4"}]
    entry = component_entry(obj)
    assert entry.api("productcatalogmanagement").specification == ("https://example.org/a.json",)
    assert entry.labels["version"] == "1.2.0"


def test_url_and_readiness_from_the_exposed_api_status() -> None:
    items = [exposed("prodcat", "productcatalogmanagement", url="https://gw/prodcat/pcm", ready=True),
             exposed("prodcat", "metrics", ready=False),
             exposed("other", "productcatalogmanagement", url="https://gw/other", ready=True)]  # not ours
    entry = component_entry(v1beta3(), items)
    pcm, metrics = entry.api("productcatalogmanagement"), entry.api("metrics")
    assert (pcm.url, pcm.status) == ("https://gw/prodcat/pcm", "ready")
    assert (metrics.url, metrics.status) == (None, "pending")


def test_url_and_readiness_from_the_component_status_when_no_exposed_api_says() -> None:
    obj = v1beta3()
    obj["status"] = {"coreAPIs": [{"name": "prodcat-productcatalogmanagement", "uid": "u1", "ready": True,
                                   "url": "https://gw/pcm"}],
                     "securityAPIs": [{"name": "partyrole", "ready": False, "url": "https://gw/pr"}],
                     "summary/status": {"deployment_status": "In-Progress-CompCon"}}
    entry = component_entry(obj)
    assert (entry.api("productcatalogmanagement").url, entry.api("productcatalogmanagement").status) == \
        ("https://gw/pcm", "ready")
    assert (entry.api("partyrole").url, entry.api("partyrole").status) == ("https://gw/pr", "pending")
    assert entry.api("metrics").status == "pending"  # summary not Complete


def test_summary_status_complete_makes_apis_without_other_readiness_ready() -> None:
    obj = v1beta3()
    obj["status"] = {"summary/status": {"deployment_status": "Complete"}}
    assert {a.status for a in component_entry(obj).apis} == {"ready"}
    # the ExposedAPI's own answer wins over the summary
    entry = component_entry(obj, [exposed("prodcat", "metrics", ready=False)])
    assert entry.api("metrics").status == "pending" and entry.api("partyrole").status == "ready"


def test_unlabelled_exposed_api_is_matched_by_its_name_and_unlisted_ones_are_added() -> None:
    items = [exposed("prodcat", "productcatalogmanagement", url="https://gw/x", labelled=False),
             exposed("prodcat", "promotionmanagement", url="https://gw/promo", ready=True)]
    entry = component_entry(v1beta3(), items)
    assert entry.api("productcatalogmanagement").url == "https://gw/x"
    promo = entry.api("promotionmanagement")
    assert promo is not None and promo.status == "ready" and promo.segment == "coreFunction"


def test_all_namespaces_qualifies_the_registry_name_and_the_owner_label_is_never_copied() -> None:
    obj = v1beta3(namespace="team-a")
    obj["metadata"]["labels"]["oda.tmforum.org/managed-by"] = "someone-else"
    entry = component_entry(obj, all_namespaces=True)
    assert entry.name == "team-a/prodcat" and "managed-by" not in entry.labels


@pytest.mark.parametrize(("mutate", "field", "problem"), [
    (lambda o: o["spec"].pop("coreFunction"), "spec.coreFunction", "is missing"),
    (lambda o: o["spec"]["coreFunction"]["exposedAPIs"][0].update(port=70000),
     "spec.coreFunction.exposedAPIs[0].port", "outside 1..65535"),
    (lambda o: o["spec"]["coreFunction"]["exposedAPIs"][0].update(port=0),
     "spec.coreFunction.exposedAPIs[0].port", "outside 1..65535"),
    (lambda o: o["spec"]["coreFunction"]["exposedAPIs"][0].update(port="http"),
     "spec.coreFunction.exposedAPIs[0].port", "must be an integer"),
    (lambda o: o["spec"]["coreFunction"]["exposedAPIs"][0].pop("name"), "spec.coreFunction.exposedAPIs[0].name",
     "is missing"),
    (lambda o: o["spec"]["coreFunction"].update(exposedAPIs={"name": "x"}), "spec.coreFunction.exposedAPIs",
     "must be a list"),
    (lambda o: o["spec"]["managementFunction"]["exposedAPIs"][0].update(name="productcatalogmanagement"),
     "spec.managementFunction.exposedAPIs[0].name", "listed twice"),
    (lambda o: o["spec"]["coreFunction"]["exposedAPIs"][0].update(specification=[42]),
     "spec.coreFunction.exposedAPIs[0].specification[0]", "must be a URL"),
    (lambda o: o["spec"].update(owners="ann"), "spec.owners", "must be a list"),
    (lambda o: o.pop("spec"), "spec", "is missing"),
])
def test_malformed_components_name_the_object_and_the_field(mutate: Any, field: str, problem: str) -> None:
    obj = v1beta3()
    mutate(obj)
    with pytest.raises(InvalidObjectError) as caught:
        component_entry(obj)
    assert caught.value.obj == "Component shop/prodcat" and caught.value.field == field
    assert problem in str(caught.value) and str(caught.value).startswith("Component shop/prodcat: field")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
API_FIELDS = ("name", "apiType", "implementation", "path", "port", "specification", "developerUI")


@st.composite
def hostile_components(draw: st.DrawFn) -> dict[str, Any]:
    """A valid Component with random parts replaced by random JSON (or removed)."""
    obj = copy.deepcopy(draw(st.sampled_from([v1beta3(), v1()])))
    api = obj["spec"]["coreFunction"]["exposedAPIs"][0]
    for field in draw(st.lists(st.sampled_from(API_FIELDS), max_size=3)):
        if draw(st.booleans()):
            api[field] = draw(json_values)
        else:
            api.pop(field, None)
    for where, key in draw(st.lists(st.sampled_from([
            (obj, "spec"), (obj, "status"), (obj, "metadata"), (obj["spec"], "coreFunction"),
            (obj["spec"], "componentMetadata"), (obj["spec"], "owners"), (obj["spec"], "managementFunction"),
            (obj["metadata"], "labels"), (obj["metadata"], "name")]), max_size=3)):
        where[key] = draw(json_values)
    return obj


@settings(max_examples=300, deadline=None)
@given(hostile_components(), st.lists(json_values | st.just(exposed("prodcat", "metrics", ready=True)), max_size=3))
def test_hostile_components_either_parse_or_raise_a_named_error(obj: dict[str, Any], extra: list[Any]) -> None:
    try:
        entry = component_entry(obj, extra)
    except InvalidObjectError as exc:
        assert str(exc).startswith(("Component ", "ExposedAPI ")) and exc.field is not None
        return
    assert entry.name and all(a.status in ("ready", "pending") for a in entry.apis)
    assert all(isinstance(v, str) for v in entry.labels.values())
    assert all(isinstance(s, str) for a in entry.apis for s in a.specification)
