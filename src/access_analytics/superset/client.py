"""A thin REST client for the Superset API calls the project needs."""

from __future__ import annotations

import json
from typing import Any

import requests


class SupersetError(RuntimeError):
    """Superset answered with an error; the message carries its response."""


class SupersetClient:
    def __init__(self, base_url: str, username: str, password: str, timeout_s: float = 60):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.session = requests.Session()
        # CSRF is on: API writes need the token and a same-origin Referer.
        self.session.headers["Referer"] = self.base_url
        login = self.session.post(
            f"{self.base_url}/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
            timeout=timeout_s,
        )
        self._raise_for(login, "login")
        self.session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = self.session.get(f"{self.base_url}/api/v1/security/csrf_token/", timeout=timeout_s)
        self._raise_for(csrf, "csrf token")
        self.session.headers["X-CSRFToken"] = csrf.json()["result"]

    @staticmethod
    def _raise_for(response: requests.Response, what: str) -> None:
        if response.status_code >= 400:
            raise SupersetError(f"{what}: HTTP {response.status_code}: {response.text[:2000]}")

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(f"{self.base_url}{path}", params=params, timeout=self.timeout_s)
        self._raise_for(response, f"GET {path}")
        return response.json()

    def list_all(self, resource: str, columns: list[str]) -> list[dict[str, Any]]:
        """Every row of /api/v1/<resource>/ (paged), with the given columns."""
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            query = f"(columns:!({','.join(columns)}),page:{page},page_size:100)"
            batch = self.get(f"/api/v1/{resource}/", q=query)["result"]
            rows.extend(batch)
            if len(batch) < 100:
                return rows
            page += 1

    def import_assets(self, bundle: bytes) -> None:
        response = self.session.post(
            f"{self.base_url}/api/v1/assets/import/",
            files={"bundle": ("bundle.zip", bundle, "application/zip")},
            data={"passwords": json.dumps({})},
            timeout=max(self.timeout_s, 300),
        )
        self._raise_for(response, "assets import")

    def export_dashboards(self, ids: list[int]) -> bytes:
        query = f"!({','.join(str(i) for i in ids)})"
        response = self.session.get(
            f"{self.base_url}/api/v1/dashboard/export/",
            params={"q": query},
            timeout=max(self.timeout_s, 300),
        )
        self._raise_for(response, "dashboard export")
        return response.content

    def chart_data(self, payload: dict[str, Any]) -> requests.Response:
        return self.session.post(
            f"{self.base_url}/api/v1/chart/data", json=payload, timeout=self.timeout_s
        )
