"""A local Google Drive v3 over TLS, with the OAuth 2.0 token endpoint a service account uses.

Google publishes no emulator, and google-api-python-client rebuilds media-upload URLs as
https:// from the discovery document's rootUrl, so the peer is a TLS server with a certificate
from a throwaway CA (trustme) that the client is told to trust. It speaks what the Drive v3
reference documents and the client sends:

- `POST /token`: the JWT bearer grant (RFC 7523) a service account makes. The assertion's RS256
  signature is checked with the key's public half, `aud` must be Google's token endpoint
  (google-auth always names it, whatever `token_uri` says), `scope` must hold
  https://www.googleapis.com/auth/drive; `sub` (domain-wide delegation) is kept. Answer
  `{"access_token", "expires_in", "token_type": "Bearer"}`.
- `POST /upload/drive/v3/files?uploadType=multipart`: multipart/related, the JSON metadata then
  the media; `uploadType=resumable`: a POST of the metadata opens a session (`Location`), PUTs
  carry the media in chunks (308 with `Range` until the last); `POST /drive/v3/files`: metadata
  only (folders).
- `GET /drive/v3/files/{id}` and `GET /drive/v3/files?q=...` with `fields` honoured.
- `GET /drive/v3/files/{id}/export?mimeType=application/pdf` for Google Docs and Sheets.

A file in a shared drive is found only with `supportsAllDrives=true` (404 otherwise, as Drive
answers); a file created outside a shared drive by a service account is refused 403
`storageQuotaExceeded` (service accounts have no quota). Errors have Drive's JSON shape
`{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`. Tests stop and
start it on the same port (an outage), hold an upload's answer (`answer_uploads` cleared: the
file is stored, the client waits, as when a worker is killed mid-send) and read `files`,
`uploads` and `tokens`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

from changegate.sandbox.loopback import Loopback, reply

DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
SHEET = "application/vnd.google-apps.spreadsheet"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SERVICE_ACCOUNT = "changegate@changegate-evidence.iam.gserviceaccount.com"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
CLAUSE = re.compile(
    r"\s*(?:name = '(?P<name>(?:[^'\\]|\\.)*)'"
    r"|mimeType = '(?P<mime>[^']*)'"
    r"|'(?P<parent>[^']+)' in parents"
    r"|trashed = (?P<trashed>true|false)"
    r"|appProperties has \{ key='(?P<key>[^']+)' and value='(?P<value>(?:[^'\\]|\\.)*)' \})\s*"
)


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    drive_id: str | None
    content: bytes = b""
    app_properties: dict[str, str] = field(default_factory=dict)
    version: int = 1
    modified_time: str = "2026-11-30T09:00:00.000Z"
    trashed: bool = False
    pdf: bytes = b""  # what an export of a Google Doc or Sheet returns

    def resource(self, base: str) -> dict[str, Any]:
        editor = self.mime_type.startswith("application/vnd.google-apps.")
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "parents": self.parents,
            "version": str(self.version),
            "modifiedTime": self.modified_time,
            "trashed": self.trashed,
            "appProperties": self.app_properties,
            "webViewLink": f"{base}/file/d/{self.id}/view",
        }
        if self.drive_id:
            out["driveId"] = self.drive_id
        if not editor:  # Drive has no checksums for Docs Editors files
            out["md5Checksum"] = hashlib.md5(self.content).hexdigest()
            out["sha256Checksum"] = hashlib.sha256(self.content).hexdigest()
            out["size"] = str(len(self.content))
        return out


@dataclass(frozen=True)
class _Resumable:
    """An answer with no body that matters, only headers (`Location`, `Range`)."""

    headers: dict[str, str]


class DriveError(Exception):
    def __init__(self, code: int, reason: str, message: str, oauth: bool = False) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.oauth = code, reason, message, oauth

    def body(self) -> dict[str, Any]:
        if self.oauth:  # RFC 6749 section 5.2
            return {"error": self.reason, "error_description": self.message}
        error = {"domain": "global", "reason": self.reason, "message": self.message}
        return {"error": {"code": self.code, "message": self.message, "errors": [error]}}


class FakeDrive(Loopback):
    """Shared drives are `drives` (id -> name); `add_doc` seeds a Google Doc with its PDF."""

    scheme = "https"

    def __init__(self, tmp: Path, service_key_pem: bytes, client_email: str, port: int = 0) -> None:
        self.drives: dict[str, str] = {}
        self.files: dict[str, DriveFile] = {}
        self.uploads: list[dict[str, Any]] = []  # each create: metadata and query
        self.tokens: list[dict[str, Any]] = []  # each token grant's verified claims
        self.errors: list[str] = []
        # Cleared: an upload is stored, then its answer waits until set (a kill -9 mid-send).
        self.answer_uploads = threading.Event()
        self.answer_uploads.set()
        self.client_email = client_email
        self._public = _public_pem(service_key_pem)
        self._issued: set[str] = set()
        self._lock = threading.Lock()
        self._sessions: dict[str, dict[str, Any]] = {}  # resumable uploads under way
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = tmp / "fake-drive-ca.pem"
        self.ca_path.write_bytes(ca.cert_pem.bytes())
        self._cert = cert
        self._listen(port)
        self.token_uri = f"{self.url}/token"
        self.shared = ""  # the shared drive a fixture made
        self.key_file = Path()  # the service account key file a fixture wrote

    def _wrap(self, server: ThreadingHTTPServer) -> ThreadingHTTPServer:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with self._cert.private_key_and_cert_chain_pem.tempfile() as chain:
            tls.load_cert_chain(chain)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        return server

    def add_drive(self, name: str) -> str:
        drive_id = "0A" + uuid.uuid4().hex[:17]
        self.drives[drive_id] = name
        return drive_id

    def add_doc(self, name: str, drive_id: str | None, text: str, mime: str = DOC) -> DriveFile:
        parents = [drive_id] if drive_id else ["root"]
        doc = DriveFile(_file_id(), name, mime, parents, drive_id, pdf=render_pdf(text))
        doc.version = 7
        self.files[doc.id] = doc
        return doc

    def in_folder(self, name: str) -> list[DriveFile]:
        """The files in the folder(s) called `name`, oldest first."""
        folders = {f.id for f in self.files.values() if f.name == name and f.mime_type == FOLDER}
        return [f for f in self.files.values() if set(f.parents) & folders]

    def listing(self) -> list[dict[str, Any]]:
        """The sandbox's own door (`GET /sandbox/files`, not Drive's API): every file that is
        not a folder, as `{"path": "CHG-1/name", "id", "appProperties", "sha256Checksum"}`."""
        names = {f.id: f.name for f in self.files.values() if f.mime_type == FOLDER}
        return [
            {
                "path": "/".join([*(names[p] for p in f.parents if p in names), f.name]),
                "id": f.id,
                "appProperties": f.app_properties,
                "sha256Checksum": hashlib.sha256(f.content).hexdigest(),
            }
            for f in self.files.values()
            if f.mime_type != FOLDER
        ]

    # -- the protocol ------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, data, kind, extra = fake._answer(method, parts.path, query, body, self)
                reply(self, status, data, kind or "application/json", extra)

        return Handler

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: bytes, req: Any
    ) -> tuple[int, bytes, str, dict[str, str]]:
        """(status, body, content type, extra headers) for one request."""
        out: Any
        extra: dict[str, str] = {}
        try:
            if path == "/token" and method == "POST":
                status, out, kind = 200, self._token(body), "application/json"
            elif path == "/sandbox/files" and method == "GET":
                status, out, kind = 200, self.listing(), "application/json"
            else:
                self._authorise(req.headers.get("Authorization", ""))
                status, out, kind = self._drive(method, path, query, body, req)
                if isinstance(out, _Resumable):
                    out, extra = {}, out.headers
        except DriveError as exc:
            status, out, kind = exc.code, exc.body(), "application/json"
        except Exception as exc:  # the peer's own bug: tests assert none happened
            self.errors.append(f"{type(exc).__name__}: {exc}")
            status, out, kind = 500, {"error": {"code": 500, "message": "fake"}}, ""
        data = out if isinstance(out, bytes) else json.dumps(out).encode()
        return status, data, kind, extra

    def _token(self, body: bytes) -> dict[str, Any]:
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != JWT_GRANT:
            raise DriveError(400, "unsupported_grant_type", "Invalid grant_type", oauth=True)
        try:
            claims = jwt.decode(
                form.get("assertion", ""), self._public, algorithms=["RS256"], audience=GOOGLE_TOKEN
            )
        except jwt.PyJWTError as exc:
            raise DriveError(400, "invalid_grant", f"Invalid JWT: {exc}", oauth=True) from None
        if claims.get("iss") != self.client_email or DRIVE_SCOPE not in claims["scope"].split():
            raise DriveError(
                400, "unauthorized_client", "client or scope not authorised", oauth=True
            )
        token = "ya29.fake-" + uuid.uuid4().hex
        with self._lock:
            self._issued.add(token)
            self.tokens.append(claims)
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _authorise(self, header: str) -> None:
        if header.removeprefix("Bearer ") not in self._issued:
            raise DriveError(401, "authError", "Request had invalid authentication credentials.")

    def _drive(
        self, method: str, path: str, query: dict[str, str], body: bytes, req: Any
    ) -> tuple[int, Any, str]:
        shared = query.get("supportsAllDrives") == "true"
        if path == "/upload/drive/v3/files" and query.get("uploadType") == "resumable":
            return self._resumable(method, query, body, req, shared)
        if method == "POST" and path == "/upload/drive/v3/files":
            if query.get("uploadType") != "multipart":
                raise DriveError(400, "badRequest", "this peer takes multipart or resumable")
            meta, media = _multipart(req.headers.get("Content-Type", ""), body)
            made = self._create(meta, media, shared, query)
            self.answer_uploads.wait(timeout=120)
            return 200, _pick(made.resource(self.url), query), ""
        if method == "POST" and path == "/drive/v3/files":
            made = self._create(json.loads(body), b"", shared, query)
            return 200, _pick(made.resource(self.url), query), ""
        if method == "GET" and path == "/drive/v3/files":
            return 200, self._list(query, shared), ""
        match = re.fullmatch(r"/drive/v3/files/([^/]+)(/export)?", path)
        if method == "GET" and match:
            # files.export takes no supportsAllDrives (the discovery document has none).
            found = self._get(match.group(1), shared or bool(match.group(2)))
            if match.group(2):
                return 200, self._export(found, query.get("mimeType", "")), "application/pdf"
            return 200, _pick(found.resource(self.url), query), ""
        raise DriveError(404, "notFound", f"no route {method} {path}")

    def _resumable(
        self, method: str, query: dict[str, str], body: bytes, req: Any, shared: bool
    ) -> tuple[int, Any, str]:
        """Drive's resumable upload: a POST of the metadata opens a session (its URI in
        `Location`); PUTs carry the media in chunks (`Content-Range: bytes a-b/total`), each
        answered 308 with the `Range` received until the last, answered with the file."""
        if method == "POST":
            session = uuid.uuid4().hex
            with self._lock:
                self._sessions[session] = {"meta": json.loads(body or b"{}"), "data": b""}
            kept = {k: v for k, v in query.items() if k != "upload_id"}
            uri = f"{self.url}/upload/drive/v3/files?{urlencode({**kept, 'upload_id': session})}"
            return 200, _Resumable({"Location": uri}), ""
        found = self._sessions.get(query.get("upload_id", ""))
        if method != "PUT" or found is None:
            raise DriveError(404, "notFound", "no such upload session")
        span = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", req.headers.get("Content-Range", ""))
        if span is None or int(span.group(1)) != len(found["data"]):
            raise DriveError(400, "badRequest", "Content-Range does not follow what was received")
        found["data"] += body
        total = int(span.group(3))
        if len(found["data"]) < total:
            received = {"Range": f"bytes=0-{len(found['data']) - 1}"}
            return 308, _Resumable(received), ""
        made = self._create(
            found["meta"], found["data"], shared, {**query, "uploadType": "resumable"}
        )
        self.answer_uploads.wait(timeout=120)
        return 200, _pick(made.resource(self.url), query), ""

    def _get(self, file_id: str, shared: bool) -> DriveFile:
        found = self.files.get(file_id)
        if found is None or (found.drive_id and not shared):
            raise DriveError(404, "notFound", f"File not found: {file_id}.")
        return found

    def _create(
        self, meta: dict[str, Any], media: bytes, shared: bool, query: dict[str, str]
    ) -> DriveFile:
        parents = meta.get("parents") or ["root"]
        drive_id = self._drive_of(parents[0], shared)
        if drive_id is None:
            raise DriveError(
                403,
                "storageQuotaExceeded",
                "Service Accounts do not have storage quota. Leverage shared drives "
                "(https://developers.google.com/workspace/drive/api/guides/about-shareddrives), "
                "or use OAuth delegation instead.",
            )
        made = DriveFile(
            _file_id(),
            meta["name"],
            meta.get("mimeType") or "application/octet-stream",
            parents,
            drive_id,
            media,
            dict(meta.get("appProperties") or {}),
            modified_time=_now(),
        )
        with self._lock:
            self.files[made.id] = made
            self.uploads.append({"metadata": meta, "query": query, "size": len(media)})
        return made

    def _drive_of(self, parent: str, shared: bool) -> str | None:
        if parent in self.drives:
            if not shared:
                raise DriveError(404, "notFound", f"File not found: {parent}.")
            return parent
        if parent == "root":
            return None
        return self._get(parent, shared).drive_id

    def _list(self, query: dict[str, str], shared: bool) -> dict[str, Any]:
        wanted = _clauses(query.get("q", ""))
        drive = query.get("driveId")
        if drive and (query.get("corpora") != "drive" or not shared):
            raise DriveError(403, "teamDriveMembershipRequired", "driveId needs corpora=drive")
        found = [
            f
            for f in self.files.values()
            if (f.drive_id == drive or (not drive and not f.drive_id)) and _matches(f, wanted)
        ]
        files = [f.resource(self.url) for f in found]
        inner = re.fullmatch(r"(?:nextPageToken,\s*)?files\((.*)\)", query.get("fields", ""))
        if inner:
            keep = {k.strip() for k in inner.group(1).split(",")}
            files = [{k: v for k, v in f.items() if k in keep} for f in files]
        return {"kind": "drive#fileList", "incompleteSearch": False, "files": files}

    def _export(self, found: DriveFile, mime: str) -> bytes:
        if mime != "application/pdf":
            raise DriveError(400, "badRequest", f"Export to {mime} is not supported here")
        if not found.mime_type.startswith("application/vnd.google-apps."):
            raise DriveError(403, "fileNotExportable", "Export only supports Docs Editors files.")
        return found.pdf


def _pick(resource: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    fields = query.get("fields")
    if not fields:
        return {k: resource[k] for k in ("kind", "id", "name", "mimeType")}
    keep = {k.strip() for k in fields.split(",")}
    return {k: v for k, v in resource.items() if k in keep}


def _clauses(q: str) -> list[re.Match[str]]:
    parts = [p for p in re.split(r" and (?=name|mimeType|'|trashed|appProperties)", q) if p]
    matched = [CLAUSE.fullmatch(p) for p in parts]
    if not all(matched):
        raise DriveError(400, "invalid", f"Invalid Value: q={q!r}")
    return [m for m in matched if m is not None]


def _matches(f: DriveFile, clauses: list[re.Match[str]]) -> bool:
    for c in clauses:
        if c["name"] is not None and f.name != c["name"].replace("\\'", "'"):
            return False
        if c["mime"] is not None and f.mime_type != c["mime"]:
            return False
        if c["parent"] is not None and c["parent"] not in f.parents:
            return False
        if c["trashed"] is not None and f.trashed != (c["trashed"] == "true"):
            return False
        if c["key"] is not None and f.app_properties.get(c["key"]) != c["value"].replace(
            "\\'", "'"
        ):
            return False
    return True


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes]:
    if not content_type.startswith("multipart/related"):
        raise DriveError(400, "badContent", f"expected multipart/related, got {content_type}")
    message = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    parts: list[Any] = list(message.get_payload() or [])
    if len(parts) != 2:
        raise DriveError(400, "badContent", "a multipart upload has metadata and media")
    meta: dict[str, Any] = json.loads(parts[0].get_payload(decode=True))
    media = parts[1].get_payload(decode=True)
    meta.setdefault("mimeType", parts[1].get_content_type())  # Drive takes the media's type
    return meta, media if isinstance(media, bytes) else b""


def _public_pem(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _file_id() -> str:
    return "1" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")[:32]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def render_pdf(text: str) -> bytes:
    """A real PDF (reportlab, invariant so the same text gives the same bytes)."""
    out = io.BytesIO()
    page = canvas.Canvas(out, invariant=1)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def service_account_file(path: Path, key_pem: bytes, client_email: str, token_uri: str) -> Path:
    """A service account key file in the shape the Cloud console downloads (JSON, type
    `service_account`), its token_uri pointing at the peer."""
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "changegate-evidence",
                "private_key_id": "0b2f6d6c3f1e4a6b9c8d7e6f5a4b3c2d1e0f9a8b",
                "private_key": key_pem.decode(),
                "client_email": client_email,
                "client_id": "109876543210987654321",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri,
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "universe_domain": "googleapis.com",
            }
        )
    )
    return path


def private_key_pem() -> bytes:
    """A new RSA key (PKCS #8 PEM), as a service account's key file holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def evidence_drive(tmp: Path, key_pem: bytes, port: int = 0) -> FakeDrive:
    """A peer (not started) with one shared drive, "Change Evidence" (`.shared`), and the
    service account's key file (`.key_file`) whose token_uri is the peer."""
    fake = FakeDrive(tmp, key_pem, SERVICE_ACCOUNT, port)
    fake.shared = fake.add_drive("Change Evidence")
    fake.key_file = service_account_file(tmp / "sa.json", key_pem, SERVICE_ACCOUNT, fake.token_uri)
    return fake
