"""Locust users for ``http_load``: the realistic mix, read and write capacity, and the framework floor.

``Mix`` is what people do: each user sends about one request a second, 90% reads (dashboards' fund lists, report lists, budget vs actual, fund summaries) and
10% writes (an expense report filed with a receipt and submitted, a submitted report approved, a
disbursement prepared with an Idempotency-Key). Request names start with ``read:`` or ``write:``
so the benchmark can total each kind. ``Reads``, ``Writes`` and ``Floor`` send requests back to
back with no pause, to measure how many the service can serve. Tokens and ids come in through the
environment.
"""

from __future__ import annotations

import os
import random
import uuid

from locust import FastHttpUser, between, constant, task

MEMBER = {"Authorization": f"Bearer {os.environ.get('BENCH_MEMBER_TOKEN', '')}"}
OFFICER = {"Authorization": f"Bearer {os.environ.get('BENCH_OFFICER_TOKEN', '')}"}
FUND = os.environ.get("BENCH_FUND_ID", "")
ORGANISATION = os.environ.get("BENCH_ORGANISATION_ID", "")


def _receipt_upload() -> tuple[bytes, str]:
    """A small, unique PDF as a multipart body (FastHttpUser has no ``files=``)."""
    boundary = uuid.uuid4().hex
    pdf = (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% "
        + uuid.uuid4().hex.encode()
        + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


class _Reads(FastHttpUser):
    """The read side of the mix: what dashboards, report lists and budget pages fetch."""

    abstract = True

    @task(30)
    def funds(self) -> None:
        self.client.get("/api/v1/funds", headers=MEMBER, name="read: fund list")

    @task(20)
    def reports(self) -> None:
        self.client.get(f"/api/v1/expense-reports?fund_id={FUND}", headers=MEMBER, name="read: report list")

    @task(20)
    def budget(self) -> None:
        self.client.get(
            f"/api/v1/funds/{FUND}/budget-vs-actual", headers=OFFICER, name="read: budget vs actual"
        )

    @task(20)
    def summary(self) -> None:
        self.client.get(f"/api/v1/funds/{FUND}/summary", headers=MEMBER, name="read: fund summary")


class _Writes(FastHttpUser):
    """The write side: a report filed with a receipt and submitted, approved; a disbursement."""

    abstract = True

    @task(4)
    def file_report(self) -> None:
        upload, content_type = _receipt_upload()
        receipt = self.client.post(
            f"/api/v1/organisations/{ORGANISATION}/receipts",
            data=upload,
            headers={**MEMBER, "Content-Type": content_type},
            name="write: receipt upload",
        )
        created = self.client.post(
            f"/api/v1/funds/{FUND}/expense-reports",
            json={"title": "load"},
            headers={**MEMBER, "Idempotency-Key": uuid.uuid4().hex},
            name="write: report create",
        )
        if receipt.status_code != 201 or created.status_code != 201:
            return
        report = created.json()
        line = {
            "category_code": "ACTIVITY",
            "amount": f"{random.randint(1, 20)}.00",
            "incurred_on": "2026-03-10",
            "payee": "P",
            "description": "D",
            "receipt_sha256": receipt.json()["sha256"],
        }
        self.client.put(
            f"/api/v1/expense-reports/{report['id']}/lines",
            json={"lines": [line]},
            headers={**MEMBER, "If-Match": f'"{report["version"]}"'},
            name="write: report lines",
        )
        self.client.post(
            f"/api/v1/expense-reports/{report['id']}/submit", headers=MEMBER, name="write: report submit"
        )

    @task(3)
    def approve(self) -> None:
        waiting = self.client.get(
            f"/api/v1/expense-reports?status=submitted&fund_id={FUND}&page_size=5",
            headers=OFFICER,
            name="read: queue",
        )
        if waiting.status_code == 200 and waiting.json():
            report = random.choice(waiting.json())
            with self.client.post(
                f"/api/v1/expense-reports/{report['id']}/approve",
                headers=OFFICER,
                name="write: report approve",
                catch_response=True,
            ) as response:
                if response.status_code in (409, 412):  # another user approved it first: not an error
                    response.success()

    @task(3)
    def disburse(self) -> None:
        body = {"kind": "reimbursement", "amount": "1.00", "memo": "load"}
        self.client.post(
            f"/api/v1/funds/{FUND}/disbursements",
            json=body,
            headers={**OFFICER, "Idempotency-Key": uuid.uuid4().hex},
            name="write: disbursement prepare",
        )


class Mix(_Reads, _Writes):
    """A busy user: about one request a second, 90% reads and 10% writes."""

    wait_time = between(0.5, 1.5)


class Reads(_Reads):
    """Reads back to back, no pause: the read capacity of the service."""

    wait_time = constant(0)


class Writes(_Writes):
    """Writes back to back, no pause: the write capacity, compared with the floor's."""

    wait_time = constant(0)


class Floor(FastHttpUser):
    wait_time = constant(0)

    @task
    def floor(self) -> None:
        self.client.post("/api/bench-floor", name="floor: read and insert")
