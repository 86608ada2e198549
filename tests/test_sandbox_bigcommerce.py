"""The BigCommerce sandbox itself, over raw HTTP: the v2 shapes the client relies on."""

from __future__ import annotations

import subprocess
import sys
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from bot.sandbox.bigcommerce import APPLICANT_GROUP, BigCommerceSandbox

pytestmark = pytest.mark.timeout(30)


def call(store: BigCommerceSandbox, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"X-Auth-Token": store.access_token, **kw.pop("headers", {})}
    return requests.request(method, store.url + path, headers=headers, timeout=5, **kw)


def test_demo_data_has_an_applicant_group_and_string_money(bc_sandbox: BigCommerceSandbox) -> None:
    groups = call(bc_sandbox, "GET", "customer_groups.json").json()
    assert [g["name"] for g in groups] == ["VIP", "Wholesale", "Staff", "Distributors", APPLICANT_GROUP]
    waiting = call(bc_sandbox, "GET", "customers", params={"customer_group_id": 5}).json()
    assert [c["email"] for c in waiting] == ["carol@example.com", "grace@example.com"]
    jane = call(bc_sandbox, "GET", "customers/1.json").json()
    assert jane["store_credit"] == "25.0000" and jane["date_modified"].endswith("+0000")
    assert set(jane) >= {"id", "company", "first_name", "last_name", "email", "phone", "date_created",
                         "date_modified", "store_credit", "registration_ip_address", "customer_group_id", "notes",
                         "addresses"}
    assert "enabled" not in jane and "accepts_marketing" not in jane
    assert call(bc_sandbox, "GET", "customers/count").json() == {"count": 8}


def test_filters_paging_and_limits(bc_sandbox: BigCommerceSandbox) -> None:
    bc_sandbox.add_customers(300)
    first = call(bc_sandbox, "GET", "customers.json", params={"limit": 500}).json()
    assert len(first) == 250  # capped
    assert len(call(bc_sandbox, "GET", "customers.json").json()) == 50  # default
    assert [c["id"] for c in call(bc_sandbox, "GET", "customers.json", params={"min_id": 3, "max_id": 5}).json()] == [3, 4, 5]
    assert call(bc_sandbox, "GET", "customers.json", params={"page": 0}).status_code == 400
    assert call(bc_sandbox, "GET", "customers.json", params={"page": 99}).status_code == 204
    assert call(bc_sandbox, "GET", "customers.json", params={"min_date_modified": "yesterday"}).status_code == 400
    since = format_datetime(datetime.now(timezone.utc) - timedelta(days=3))
    recent = call(bc_sandbox, "GET", "customers.json", params={"min_date_modified": since, "limit": 250}).json()
    assert {3, 7} <= {c["id"] for c in recent} and 1 not in {c["id"] for c in recent}


def test_writes_validate_like_the_store(bc_sandbox: BigCommerceSandbox) -> None:
    made = call(bc_sandbox, "POST", "customers.json", json={"first_name": "N", "last_name": "P", "email": "n@example.com",
                                                              "store_credit": 3})
    assert made.status_code == 201 and made.json()["store_credit"] == "3.0000"
    assert call(bc_sandbox, "POST", "customers", json={"first_name": "N", "last_name": "P",
                                                       "email": "JANE@example.com"}).status_code == 409
    assert call(bc_sandbox, "POST", "customers", json={"email": "x@example.com"}).status_code == 400
    assert call(bc_sandbox, "PUT", "customers/1.json", json={"enabled": False}).status_code == 400  # no such field
    assert call(bc_sandbox, "PUT", "customers/1.json", json={"customer_group_id": 99}).status_code == 400
    put = call(bc_sandbox, "PUT", "customers/1", json={"customer_group_id": "2"})
    assert put.status_code == 200 and put.json()["customer_group_id"] == 2 and put.json()["email"] == "jane@example.com"
    assert call(bc_sandbox, "PUT", "customers/999.json", json={"customer_group_id": 2}).status_code == 404
    assert call(bc_sandbox, "DELETE", "customer_groups/1.json").status_code == 204
    assert bc_sandbox.customer(8)["customer_group_id"] == 0  # Henry was in VIP


def test_cli_prints_the_settings_to_use(tmp_path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bot", "sandbox", "--backend", "bigcommerce", "--port", "0"],
                            stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("BigCommerce sandbox store (demo data) at http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        assert f"BIGCOMMERCE_API_URL={url}" in lines and "BIGCOMMERCE_ACCESS_TOKEN=sandbox-access-token" in lines
        answer = requests.get(url + "customers/1.json", headers={"X-Auth-Token": "sandbox-access-token"}, timeout=5)
        assert answer.json()["email"] == "jane@example.com"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = subprocess.run([sys.executable, "-m", "bot", "sandbox", "--backend", "shopify"], capture_output=True,
                         text=True, cwd=tmp_path, timeout=30)
    assert bad.returncode == 2 and "bigcommerce" in bad.stdout
