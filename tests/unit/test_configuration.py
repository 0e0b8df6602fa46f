"""A CloudFormation drift result as an observation of the resource (CFG-1, CFG-2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from changegate.domain.configuration import (
    DriftStatusCfn,
    ItemStatus,
    ObservedItem,
    ResourceDrift,
    observed_from_drift,
)

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
STACK = "arn:aws:cloudformation:eu-west-1:123456789012:stack/web/6a4c2b10-0f1e-11ef-8c2b-0a1b"
ACTUAL: dict[str, object] = {"BucketName": "logs-prod", "VersioningConfiguration": {"S": "On"}}


def drift(
    status: DriftStatusCfn,
    physical_id: str | None = "logs-prod",
    stack_id: str = STACK,
    actual: dict[str, object] | None = ACTUAL,
) -> ResourceDrift:
    return ResourceDrift(
        stack_id, "Logs", physical_id, "AWS::S3::Bucket", status, (), AT, actual=actual
    )


def observed(status: str, configuration: dict[str, object] | None) -> ObservedItem:
    return ObservedItem(
        resource_type="AWS::S3::Bucket",
        resource_id="logs-prod",
        arn=None,
        account_id="123456789012",
        region="eu-west-1",
        captured_at=AT,
        status=status,
        configuration=configuration,
        shape="cloudformation",
    )


def test_a_modified_resource_is_observed_with_its_actual_properties() -> None:
    assert observed_from_drift(drift(DriftStatusCfn.MODIFIED)) == observed("OK", ACTUAL)


def test_an_in_sync_resource_without_properties_is_observed_empty() -> None:
    item = observed_from_drift(drift(DriftStatusCfn.IN_SYNC, actual=None))
    assert item == observed("OK", {})


def test_a_deleted_resource_is_observed_deleted_without_configuration() -> None:
    item = observed_from_drift(drift(DriftStatusCfn.DELETED))
    assert item == observed("ResourceDeleted", None)
    assert item is not None and item.deleted is True


SILENT = [
    drift(DriftStatusCfn.NOT_CHECKED),
    drift(DriftStatusCfn.UNKNOWN),
    drift(DriftStatusCfn.UNSUPPORTED),
    drift(DriftStatusCfn.MODIFIED, physical_id=None),
    drift(DriftStatusCfn.MODIFIED, physical_id=""),
]


def test_the_silent_list_is_not_empty() -> None:
    assert len(SILENT) == 5


@pytest.mark.parametrize("result", SILENT)
def test_a_result_that_says_nothing_is_dropped(result: ResourceDrift) -> None:
    assert observed_from_drift(result) is None


@pytest.mark.parametrize("stack_id", ["web", "arn:aws:cloudformation:eu-west-1:123456789012"])
def test_a_stack_id_that_is_not_a_full_arn_names_no_account_or_region(stack_id: str) -> None:
    item = observed_from_drift(drift(DriftStatusCfn.MODIFIED, stack_id=stack_id))
    assert item is not None
    assert (item.account_id, item.region) == ("", None)


def test_deleted_means_either_deleted_status() -> None:
    statuses = [ItemStatus.OK, ItemStatus.DISCOVERED, ItemStatus.NOT_RECORDED]
    statuses += [ItemStatus.DELETED, ItemStatus.DELETED_NOT_RECORDED]
    assert [observed(s, None).deleted for s in statuses] == [False, False, False, True, True]
