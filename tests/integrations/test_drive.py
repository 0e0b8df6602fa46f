"""The Drive adapter, with Google's own client, against a local Drive v3 over TLS."""

from __future__ import annotations

import hashlib

import pytest

from changegate.integrations.drive import GoogleDrive, connect
from changegate.integrations.ports import DriveNotFound, IntegrationError
from changegate.sandbox.drive import FakeDrive


def drive_of(fake: FakeDrive, drive_id: str | None = None) -> GoogleDrive:
    service = connect(fake.key_file, None, fake.url, fake.ca_path)
    return GoogleDrive(service, drive_id or fake.shared)


def test_a_folder_is_made_once_and_found_by_name_and_properties(fake_drive: FakeDrive) -> None:
    drive = drive_of(fake_drive)
    tags = {"changegateChange": "CHG-42"}
    first = drive.folder(fake_drive.shared, "CHG-42", tags)
    again = drive.folder(fake_drive.shared, "CHG-42", tags)
    other = drive.folder(fake_drive.shared, "CHG-42", {"changegateChange": "CHG-43"})
    assert first == again != other
    folders = [f for f in fake_drive.files.values() if f.name == "CHG-42"]
    assert len(folders) == 2
    assert fake_drive.tokens[0]["iss"] == fake_drive.client_email
    assert "https://www.googleapis.com/auth/drive" in fake_drive.tokens[0]["scope"]


def test_an_upload_lands_tagged_in_the_shared_drive_with_its_checksums(
    fake_drive: FakeDrive,
) -> None:
    drive = drive_of(fake_drive)
    folder = drive.folder(fake_drive.shared, "CHG-7", {"changegateChange": "CHG-7"})
    content = b"<testsuite name='s' tests='1'><testcase name='t'/></testsuite>"
    tags = {"changegateChange": "CHG-7", "changegateTestRun": "12"}
    filed = drive.upload(folder, "junit.xml", "application/xml", content, tags)
    assert filed.sha256 == hashlib.sha256(content).hexdigest()
    assert filed.md5 == hashlib.md5(content).hexdigest()
    assert (filed.drive_id, filed.version, filed.mime_type) == (
        fake_drive.shared,
        1,
        "application/xml",
    )
    assert filed.link.endswith(f"/file/d/{filed.id}/view")
    stored = fake_drive.files[filed.id]
    assert (stored.content, stored.app_properties, stored.parents) == (content, tags, [folder])
    assert fake_drive.uploads[-1]["query"]["uploadType"] == "multipart"
    assert fake_drive.uploads[-1]["query"]["supportsAllDrives"] == "true"
    assert drive.find(folder, {"changegateTestRun": "12"}) == filed
    assert drive.find(folder, {"changegateTestRun": "13"}) is None


def test_a_report_over_5_mb_goes_as_a_resumable_upload_in_chunks(fake_drive: FakeDrive) -> None:
    """Drive takes multipart uploads up to 5 MB; a larger JUnit report (a big suite's) is sent
    as a resumable upload, here in two chunks of at most 8 MiB."""
    drive = drive_of(fake_drive)
    folder = drive.folder(fake_drive.shared, "CHG-8", {"changegateChange": "CHG-8"})
    case = b"<testcase classname='checkout' name='t' time='0.1'/>"
    content = b"<testsuite name='big'>" + case * 200_000 + b"</testsuite>"
    assert 8 * 1024 * 1024 < len(content) < 16 * 1024 * 1024
    filed = drive.upload(folder, "junit.xml", "application/xml", content, {"k": "v"})
    assert filed.sha256 == hashlib.sha256(content).hexdigest()
    assert fake_drive.files[filed.id].content == content
    assert fake_drive.uploads[-1]["query"]["uploadType"] == "resumable"
    assert fake_drive.uploads[-1]["query"]["supportsAllDrives"] == "true"
    assert fake_drive.errors == []


def test_a_google_doc_has_no_checksum_and_exports_as_pdf(fake_drive: FakeDrive) -> None:
    doc = fake_drive.add_doc("Regression results CHG-7", fake_drive.shared, "all 212 passed")
    drive = drive_of(fake_drive)
    found = drive.get(doc.id)
    assert (found.sha256, found.md5, found.version, found.drive_id) == (
        None,
        None,
        7,
        fake_drive.shared,
    )
    pdf = drive.export_pdf(doc.id)
    assert pdf.startswith(b"%PDF-") and pdf == doc.pdf


def test_a_missing_file_is_not_found(fake_drive: FakeDrive) -> None:
    with pytest.raises(DriveNotFound, match="File not found"):
        drive_of(fake_drive).get("1NoSuchFile")


def test_outside_a_shared_drive_a_service_account_cannot_upload(fake_drive: FakeDrive) -> None:
    drive = drive_of(fake_drive)
    with pytest.raises(IntegrationError, match="HTTP 403") as raised:
        drive.upload("root", "x.xml", "application/xml", b"<x/>", {})
    assert raised.value.status == 403


def test_drive_down_is_no_response(fake_drive: FakeDrive) -> None:
    drive = drive_of(fake_drive)
    drive.folder(fake_drive.shared, "CHG-1", {})
    fake_drive.stop()
    with pytest.raises(IntegrationError, match="no response") as raised:
        drive.folder(fake_drive.shared, "CHG-2", {})
    assert raised.value.status is None
    fake_drive.start()


def test_a_key_file_that_is_not_one_is_said_so(fake_drive: FakeDrive) -> None:
    bad = fake_drive.key_file.with_name("bad.json")
    bad.write_text("{}")
    with pytest.raises(IntegrationError, match="cannot read the service account key"):
        connect(bad, None, fake_drive.url, fake_drive.ca_path)
