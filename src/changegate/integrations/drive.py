"""Google Drive v3 through Google's own client (google-api-python-client, google-auth).

The service account signs a JWT for the token endpoint named in its key file (`token_uri`),
with the scope https://www.googleapis.com/auth/drive, optionally acting for a Workspace user
(domain-wide delegation: `subject`). Every call names `supportsAllDrives=true`: the files live
in a shared drive, because a service account has no storage quota of its own (Drive refuses
its uploads elsewhere with 403 storageQuotaExceeded).

Calls used (Drive v3 reference): files.create (multipart upload, metadata with `parents` and
`appProperties`), files.list (`q` by name, parent and appProperties, `corpora=drive`),
files.get (`fields`), files.export (`mimeType=application/pdf`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from changegate.integrations.ports import DriveFile, DriveNotFound, IntegrationError

SCOPE: Final = "https://www.googleapis.com/auth/drive"
FOLDER: Final = "application/vnd.google-apps.folder"
# Drive v3, "Upload file data": multipart for files of 5 MB or less, resumable above; a chunk
# is a multiple of 256 KiB.
MULTIPART_LIMIT = 5 * 1024 * 1024
CHUNK = 8 * 1024 * 1024
FIELDS: Final = (
    "id,name,mimeType,version,modifiedTime,md5Checksum,sha256Checksum,driveId,webViewLink"
)
ENDPOINT: Final = "Google Drive"
TIMEOUT: Final = 30


def connect(
    credentials_file: Path,
    subject: str | None = None,
    drive_url: str | None = None,
    ca_certs: Path | None = None,
) -> Any:
    """A Drive v3 service object for a service account's key file; `drive_url` points it at
    another Drive (a local peer in tests), `ca_certs` is a PEM bundle to trust instead of
    the default roots."""
    import google_auth_httplib2  # type: ignore[import-untyped]  # noqa: PLC0415
    import httplib2  # type: ignore[import-untyped]  # noqa: PLC0415
    from google.oauth2 import service_account  # noqa: PLC0415
    from googleapiclient.discovery import build  # type: ignore[import-untyped]  # noqa: PLC0415

    try:
        creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(credentials_file), scopes=[SCOPE]
        )
    except (OSError, ValueError, KeyError) as exc:
        raise IntegrationError(
            ENDPOINT, None, f"cannot read the service account key: {exc}"
        ) from None
    if subject:
        creds = creds.with_subject(subject)
    http = httplib2.Http(timeout=TIMEOUT, ca_certs=str(ca_certs) if ca_certs else None)
    # 308 is Drive's "resume incomplete" in a resumable upload, not a redirect: the client
    # library's own build_http removes it the same way.
    http.redirect_codes = http.redirect_codes - {308}
    options = {"api_endpoint": drive_url.rstrip("/") + "/drive/v3/"} if drive_url else None
    return build(
        "drive",
        "v3",
        http=google_auth_httplib2.AuthorizedHttp(creds, http=http),
        static_discovery=True,
        client_options=options,
        cache_discovery=False,
    )


class GoogleDrive:
    """The Drive port over a service object from `connect`, inside the shared drive `drive_id`."""

    def __init__(self, service: Any, drive_id: str) -> None:
        self.files = service.files()
        self.drive_id = drive_id

    def folder(self, parent: str, name: str, properties: Mapping[str, str]) -> str:
        query = _query(parent, properties, name=name, mime_type=FOLDER)
        found = self._list(query)
        if found:
            return str(found[0]["id"])
        body = {"name": name, "mimeType": FOLDER, "parents": [parent]}
        made = self._call(
            self.files.create(
                body={**body, "appProperties": dict(properties)},
                supportsAllDrives=True,
                fields="id",
            )
        )
        return str(made["id"])

    def find(self, parent: str, properties: Mapping[str, str]) -> DriveFile | None:
        found = self._list(_query(parent, properties))
        return max((_file(f) for f in found), key=lambda f: f.modified_time, default=None)

    def upload(
        self, parent: str, name: str, mime_type: str, content: bytes, properties: Mapping[str, str]
    ) -> DriveFile:
        from googleapiclient.http import MediaIoBaseUpload  # type: ignore[import-untyped]  # noqa: PLC0415

        # Drive takes a multipart upload up to 5 MB; larger files go as a resumable upload.
        resumable = len(content) > MULTIPART_LIMIT
        media = MediaIoBaseUpload(
            io.BytesIO(content), mimetype=mime_type, resumable=resumable, chunksize=CHUNK
        )
        body = {"name": name, "parents": [parent], "appProperties": dict(properties)}
        return _file(
            self._call(
                self.files.create(
                    body=body, media_body=media, supportsAllDrives=True, fields=FIELDS
                )
            )
        )

    def get(self, file_id: str) -> DriveFile:
        return _file(
            self._call(self.files.get(fileId=file_id, supportsAllDrives=True, fields=FIELDS))
        )

    def export_pdf(self, file_id: str) -> bytes:
        data = self._call(self.files.export(fileId=file_id, mimeType="application/pdf"))
        if not isinstance(data, bytes):
            raise IntegrationError(ENDPOINT, None, "files.export did not answer with a document")
        return data

    def _list(self, query: str) -> list[dict[str, Any]]:
        answer = self._call(
            self.files.list(
                q=query,
                corpora="drive",
                driveId=self.drive_id,
                includeItemsFromAllDrives=True,
                supportsAllDrives=True,
                fields=f"files({FIELDS})",
                pageSize=100,
            )
        )
        return list(answer.get("files") or [])

    @staticmethod
    def _call(request: Any) -> Any:
        import httplib2  # noqa: PLC0415
        from google.auth.exceptions import GoogleAuthError  # noqa: PLC0415
        from googleapiclient.errors import HttpError  # type: ignore[import-untyped]  # noqa: PLC0415

        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            status = int(exc.resp.status)
            if status == 404:
                raise DriveNotFound(exc.reason or "not found") from None
            raise IntegrationError(ENDPOINT, status, str(exc.reason)[:300]) from None
        except GoogleAuthError as exc:
            raise IntegrationError(ENDPOINT, None, f"sign-in failed: {exc}"[:300]) from None
        except (OSError, httplib2.HttpLib2Error) as exc:
            raise IntegrationError(ENDPOINT, None, f"{type(exc).__name__}: {exc}"[:300]) from None


def _query(
    parent: str,
    properties: Mapping[str, str],
    name: str | None = None,
    mime_type: str | None = None,
) -> str:
    clauses = [f"'{_quoted(parent)}' in parents", "trashed = false"]
    clauses += [f"name = '{_quoted(name)}'"] if name is not None else []
    clauses += [f"mimeType = '{mime_type}'"] if mime_type else []
    clauses += [
        f"appProperties has {{ key='{_quoted(k)}' and value='{_quoted(v)}' }}"
        for k, v in sorted(properties.items())
    ]
    return " and ".join(clauses)


def _quoted(value: str) -> str:
    # Drive's query language escapes ' and \ with a backslash.
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _file(found: Mapping[str, Any]) -> DriveFile:
    try:
        return DriveFile(
            id=str(found["id"]),
            name=str(found["name"]),
            mime_type=str(found["mimeType"]),
            version=int(found["version"]),
            modified_time=datetime.fromisoformat(str(found["modifiedTime"]).replace("Z", "+00:00")),
            drive_id=found.get("driveId"),
            link=str(found.get("webViewLink") or ""),
            md5=found.get("md5Checksum"),
            sha256=found.get("sha256Checksum"),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise IntegrationError(ENDPOINT, None, f"unreadable file metadata: {exc}") from None


class LazyDrive:
    """The Drive port, connected on first use: a command that never touches Drive does not
    pay for importing Google's client. `drive_id` may come later (the policy names it)."""

    def __init__(
        self,
        credentials_file: Path,
        subject: str | None = None,
        drive_url: str | None = None,
        ca_certs: Path | None = None,
    ) -> None:
        self._args = (credentials_file, subject, drive_url, ca_certs)
        self._drive: GoogleDrive | None = None
        self.drive_id = ""

    def within(self, drive_id: str) -> LazyDrive:
        self.drive_id = drive_id
        return self

    def _connected(self) -> GoogleDrive:
        if self._drive is None:
            self._drive = GoogleDrive(connect(*self._args), self.drive_id)
        self._drive.drive_id = self.drive_id
        return self._drive

    def folder(self, parent: str, name: str, properties: Mapping[str, str]) -> str:
        return self._connected().folder(parent, name, properties)

    def find(self, parent: str, properties: Mapping[str, str]) -> DriveFile | None:
        return self._connected().find(parent, properties)

    def upload(
        self, parent: str, name: str, mime_type: str, content: bytes, properties: Mapping[str, str]
    ) -> DriveFile:
        return self._connected().upload(parent, name, mime_type, content, properties)

    def get(self, file_id: str) -> DriveFile:
        return self._connected().get(file_id)

    def export_pdf(self, file_id: str) -> bytes:
        return self._connected().export_pdf(file_id)
