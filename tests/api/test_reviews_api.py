"""Annual and quarterly reviews over HTTP: preview, sign by digest, print; problems, not 5xx.

The server's clock is the real one (late 2026): 2025 has ended, 2026 has not."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from changegate.cli.main import run
from tests.api.conftest import Api

ROUTES = ["/api/v1/reviews/policy-annual", "/api/v1/reviews/config-annual"]


def problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    content_type = response.headers["content-type"]  # type: ignore[attr-defined]
    assert content_type.startswith("application/problem+json")
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status and body["detail"]
    return body


@pytest.mark.parametrize("route", ROUTES)
def test_the_iso_signs_what_they_previewed(api: Api, route: str) -> None:
    assert ROUTES
    seen = api.call("auditor", "GET", f"{route}/2025/preview")
    assert seen.status_code == 200, seen.text
    preview = seen.json()
    assert (preview["period"], preview["signable"], preview["why_not"]) == ("2025", True, None)
    signed = api.call(
        "iso", "POST", route, json={"year": "2025", "sha256": preview["sha256"], "notes": "ok"}
    )
    assert signed.status_code == 201, signed.text
    out = signed.json()
    assert (out["period"], out["author"]) == ("2025", "ivy@example.com")
    assert out["report"]["report_sha256"] == preview["sha256"]
    assert out["report"]["report"] == preview["report"]
    listed = api.call("auditor", "GET", "/api/v1/reviews").json()
    assert [r["id"] for r in listed["items"]] == [out["id"]]


def test_refusals_are_409_problems_naming_the_control(api: Api) -> None:
    running = api.call("iso", "GET", "/api/v1/reviews/config-annual/2026/preview").json()
    assert running["signable"] is False
    assert running["why_not"] == "2026 has not ended yet; review it after 2027-01-01"
    early = api.call(
        "iso",
        "POST",
        "/api/v1/reviews/config-annual",
        json={"year": "2026", "sha256": running["sha256"]},
    )
    assert problem(early, 409)["control"] == "CFG-5"
    other = hashlib.sha256(b"a report nobody previewed").hexdigest()
    moved = api.call(
        "iso", "POST", "/api/v1/reviews/policy-annual", json={"year": "2025", "sha256": other}
    )
    body = problem(moved, 409)
    assert body["control"] == "POL-1" and "changed since it was previewed" in str(body["detail"])
    digest = api.call("iso", "GET", "/api/v1/reviews/policy-annual/2025/preview").json()["sha256"]
    cab = api.call(
        "cab", "POST", "/api/v1/reviews/policy-annual", json={"year": "2025", "sha256": digest}
    )
    problem(cab, 403)
    assert api.call("auditor", "GET", "/api/v1/reviews").json()["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/reviews/policy-annual/20x6/preview", None),
        ("GET", "/api/v1/reviews/config-annual/1969/preview", None),
        ("GET", "/api/v1/reviews/quarterly-metrics/2026-Q5/preview", None),
        ("POST", "/api/v1/reviews/policy-annual", {"year": "20x6", "sha256": "a" * 64}),
        ("POST", "/api/v1/reviews/config-annual", {"year": "2025", "sha256": "abc"}),
        ("POST", "/api/v1/reviews/config-annual", {"year": "2025"}),
        ("POST", "/api/v1/reviews/quarterly-metrics", {"quarter": "2026-Q3", "sha256": "z"}),
    ],
)
def test_bad_input_is_a_422_problem(
    api: Api, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = api.call("iso", method, path, json=body) if body else api.call("iso", method, path)
    problem(response, 422)
    assert api.call("auditor", "GET", "/api/v1/reviews").json()["total"] == 0


def test_quarterly_metrics_preview_and_pinned_signature(api: Api) -> None:
    preview = api.call("iso", "GET", "/api/v1/reviews/quarterly-metrics/2026-q3/preview").json()
    assert (preview["kind"], preview["period"]) == ("quarterly_metrics", "2026-Q3")
    body = {"quarter": "2026-Q3", "notes": "n", "sha256": preview["sha256"]}
    signed = api.call("iso", "POST", "/api/v1/reviews/quarterly-metrics", json=body)
    assert signed.status_code == 201, signed.text
    assert signed.json()["report"] == preview["report"] | {"notes": "n"}
    wrong = body | {"sha256": "0" * 64}
    problem(api.call("iso", "POST", "/api/v1/reviews/quarterly-metrics", json=wrong), 409)


def test_a_signed_review_prints_as_html_and_pdf(api: Api) -> None:
    digest = api.call("iso", "GET", "/api/v1/reviews/policy-annual/2025/preview").json()["sha256"]
    notes = "<img src=x onerror=alert(1)> & more"
    review_id = api.call(
        "iso",
        "POST",
        "/api/v1/reviews/policy-annual",
        json={"year": "2025", "sha256": digest, "notes": notes},
    ).json()["id"]
    html = api.call("requester", "GET", f"/api/v1/reviews/{review_id}/report.html")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; more" in html.text
    assert "<img" not in html.text
    assert digest in html.text and "ivy@example.com" in html.text
    assert "Annual review of the change-management policy (POL-1), 2025" in html.text
    pdf = api.call("auditor", "GET", f"/api/v1/reviews/{review_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    problem(api.call("auditor", "GET", "/api/v1/reviews/999/report.pdf"), 404)
    problem(api.call("auditor", "GET", "/api/v1/reviews/0/report.html"), 422)


def test_the_cli_over_http_previews_signs_and_prints(
    api: Api,
    server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CHANGEGATE_URL", server)
    monkeypatch.setenv("CHANGEGATE_TOKEN", api.secrets["ivy@example.com"])
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "sqlite:////nonexistent/unused.db")

    def cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = cli("review", "config", "--year", "2025", "--preview", "--json")
    assert code == 0, err
    digest = json.loads(out)["sha256"]
    code, out, err = cli("review", "config", "--year", "2025", "--sha256", digest, "--json")
    assert code == 0, err
    review_id = json.loads(out)["id"]
    code, _, err = cli("review", "config", "--year", "2025", "--sha256", "0" * 64)
    assert code == 1 and "changed since it was previewed" in err
    target = tmp_path / "r.pdf"
    code, out, err = cli("review", "doc", str(review_id), "--out", str(target))
    assert code == 0, err
    assert target.read_bytes().startswith(b"%PDF")
    code, _, err = cli("review", "doc", "999", "--format", "html", "--out", str(target))
    assert code == 2 and "no signed review 999" in err
