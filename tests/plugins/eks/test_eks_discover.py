"""EksProvider.discover() against moto's server: clusters, regions, roles and failures."""

from __future__ import annotations

import boto3
import pytest
from structlog.testing import capture_logs

from nautilus_core import ClusterRef, ConfigError, PermanentError, TransientError
from nautilus_eks import EksProvider
from nautilus_eks.provider import cluster_ref


def by_name(refs) -> dict[str, ClusterRef]:
    return {ref.name: ref for ref in refs}


def test_discover_lists_clusters_of_every_configured_region(make_cluster, monkeypatch):
    made = make_cluster("eu-west-1", "payments", version="1.30", tags={"team": "pay", "env": "prod"},
                        nodegroups={"general": 3, "spot": 2})
    make_cluster("us-east-1", "search")
    make_cluster("ap-south-1", "elsewhere")  # not a configured region
    monkeypatch.setenv("NAUTILUS_EKS_REGIONS", "eu-west-1, us-east-1")

    refs = by_name(EksProvider().discover())

    assert set(refs) == {"payments", "search"}
    pay = refs["payments"]
    assert (pay.provider, pay.account, pay.location) == ("eks", "123456789012", "eu-west-1")
    assert (pay.version, pay.status, pay.node_count) == ("1.30", "ACTIVE", 5)
    assert pay.endpoint == made["endpoint"].rstrip("/") and pay.endpoint.startswith("https://")
    assert dict(pay.labels) == {"team": "pay", "env": "prod"}
    assert pay.extra["ca_data"] == made["certificateAuthority"]["data"]
    assert pay.extra["arn"] == made["arn"]
    assert pay.key == "eks/123456789012/eu-west-1/payments"
    search = refs["search"]
    assert search.location == "us-east-1"
    assert search.node_count is None  # no managed node groups: unknown, not zero


def test_discover_pages_through_clusters_and_node_groups(make_cluster, monkeypatch):
    for i in range(5):
        make_cluster("eu-west-1", f"c{i}")
    make_cluster("eu-west-1", "big", nodegroups={"a": 1, "b": 2, "c": 4})
    monkeypatch.setenv("NAUTILUS_EKS_REGIONS", "eu-west-1")

    refs = by_name(EksProvider(page_size=2).discover())

    assert sorted(refs) == ["big", "c0", "c1", "c2", "c3", "c4"]
    assert refs["big"].node_count == 7


def test_default_region_is_the_sessions(make_cluster, monkeypatch):
    make_cluster("eu-west-1", "here")
    make_cluster("us-east-1", "there")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    assert [ref.name for ref in EksProvider().discover()] == ["there"]


def test_no_region_anywhere_is_a_config_error_naming_the_variable(aws, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    with pytest.raises(ConfigError, match="NAUTILUS_EKS_REGIONS"):
        list(EksProvider().discover())


def test_role_from_env_is_assumed_and_gives_the_account(make_cluster, monkeypatch):
    role = "arn:aws:iam::210987654321:role/nautilus-reader"
    make_cluster("eu-west-1", "ambient-account-only")
    creds = boto3.Session().client("sts").assume_role(RoleArn=role, RoleSessionName="setup")["Credentials"]
    other = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"])
    make_cluster("eu-west-1", "other-account", session=other)
    monkeypatch.setenv("NAUTILUS_EKS_ROLE_ARN", role)

    refs = list(EksProvider().discover())

    assert [(r.account, r.name) for r in refs] == [("210987654321", "other-account")]


@pytest.mark.usefixtures("moto_auth")
def test_rejected_credentials_name_provider_and_region_and_hide_the_secret(aws, monkeypatch):
    monkeypatch.setenv("NAUTILUS_EKS_REGIONS", "eu-central-1")

    with pytest.raises(PermanentError) as caught:
        list(EksProvider().discover())

    message = str(caught.value)
    assert message.startswith("eks: ")
    assert "region eu-central-1" in message
    assert "InvalidClientTokenId" in message
    assert aws.secret_key not in message and aws.access_key not in message


def test_unreachable_endpoint_is_transient_and_names_the_region(aws, closed_port, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("NAUTILUS_EKS_REGIONS", "us-west-2")

    with pytest.raises(TransientError) as caught:
        list(EksProvider().discover())

    assert str(caught.value).startswith("eks: sts:GetCallerIdentity failed in account ? region us-west-2")
    assert aws.secret_key not in str(caught.value)


def test_eks_outage_is_transient_and_names_account_and_region(aws, http_fake, monkeypatch):
    http_fake.route("GET", "/clusters", (503, {"message": "try later"}))
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", http_fake.url)  # STS stays on moto
    monkeypatch.setenv("NAUTILUS_EKS_REGIONS", "eu-west-1")

    with pytest.raises(TransientError) as caught:
        list(EksProvider().discover())

    assert str(caught.value).startswith(
        "eks: eks:ListClusters failed in account 123456789012 region eu-west-1")
    assert "503" in str(caught.value)


def test_entry_without_endpoint_or_name_is_skipped_with_a_warning():
    with capture_logs() as logs:
        no_name = cluster_ref({"arn": "arn:aws:eks:eu-west-1:1:cluster/x", "status": "ACTIVE"},
                              account="1", region="eu-west-1", node_count=None)
        no_endpoint = cluster_ref({"name": "broken", "status": "ACTIVE"}, account="1", region="eu-west-1",
                                  node_count=None)
        creating = cluster_ref({"name": "new", "status": "CREATING"}, account="1", region="eu-west-1",
                               node_count=None)

    assert no_name is None and no_endpoint is None
    assert creating is not None and creating.endpoint is None and creating.status == "CREATING"
    warned = [(e["event"], e.get("cluster"), e["field"]) for e in logs]
    assert warned == [("eks_cluster_malformed", None, "name"),
                      ("eks_cluster_malformed", "broken", "endpoint")]
