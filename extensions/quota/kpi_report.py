"""The whole KPI report: the ledger's figures (kpi.py) with those the workshops and catalogue
services count in their own records, and the report as rows and CSV.

A service the hub does not run gives ``None`` and "not offered on this hub"; one that fails gives
``None`` and why. Either way the report says which figure is missing: never a traceback, never a
silent 0.
"""
from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass

from factoryhub.report_period import Period
from factoryhub.restclient import RemoteError, RestClient

from .db import Database
from .kpi import kpi_figures

log = logging.getLogger(__name__)

NOT_OFFERED = "not offered on this hub"
REMOTE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Source:
    """A service that counts some of the report's figures: the report's section they go in, their keys."""

    name: str
    label: str
    section: str
    keys: tuple[str, ...]


SOURCES = (Source("workshops", "the workshops service", "training", ("workshops", "participants")),
           Source("catalogue", "the catalogue service", "data", ("access_requests_granted",)))


async def kpi_report(db: Database, clients: dict[str, RestClient | None], period: Period, now: dt.datetime) -> dict:
    """The report of ``period``: ledger figures, the services' figures, and ``unavailable`` (figure -> why)."""
    # the ledger's queries (up to a second for a year) run in a thread, beside the services' answers:
    # the service keeps placing holds for spawns meanwhile
    ledger = asyncio.get_running_loop().run_in_executor(None, _ledger_figures, db, period, now)
    report, *answers = await asyncio.gather(ledger, *(_ask(s, clients.get(s.name), period) for s in SOURCES))
    unavailable: dict[str, str] = {}
    for source, (figures, why) in zip(SOURCES, answers, strict=True):
        report[source.section] = figures
        unavailable.update(dict.fromkeys(source.keys, why) if why else {})
    report["unavailable"] = unavailable
    return report


def _ledger_figures(db: Database, period: Period, now: dt.datetime) -> dict:
    with db.read() as session:
        return kpi_figures(session, period, now)


async def _ask(source: Source, client: RestClient | None, period: Period) -> tuple[dict, str | None]:
    """The source's figures (None each when missing) and why they are missing (None: they are not)."""
    missing = dict.fromkeys(source.keys)
    if client is None:
        return missing, NOT_OFFERED
    try:
        answer = await client.call("GET", f"/reports/kpi?{period.query()}", timeout=REMOTE_TIMEOUT)
    except RemoteError as err:
        log.warning("KPI report: %s failed: %s", source.label, err)
        return missing, f"{source.label} failed: {err}"
    wrong = [k for k in source.keys if not (type(answer.get(k)) is int and answer[k] >= 0)]
    if wrong:
        log.warning("KPI report: %s answered without a count of %s: %r", source.label, wrong[0], answer)
        return missing, f"{source.label} answered without a count of {wrong[0]}"
    return {k: answer[k] for k in source.keys}, None


def figure_rows(report: dict) -> list[tuple[str, str, object]]:
    """The report as (section, key, value) rows, one per figure, in the order the page shows them."""
    rows: list[tuple[str, str, object]] = []
    for section, content in report.items():
        if section == "usage":
            rows += [("usage", f"total.{k}", v) for k, v in content["total"].items()]
            for group in ("by_track", "by_sector"):
                rows += [(f"usage_{group}", f"{name}.{k}", v) for name, figure in content[group].items()
                         for k, v in figure.items()]
            rows += [("usage_by_project", f"{p['account']}.{k}", p[k]) for p in content["by_project"]
                     for k in ("gpu_hours", "sessions")]
        else:
            rows += [(section, key, value) for key, value in content.items()]
    return rows


def csv_value(value: object) -> str:
    """A figure as CSV gives it (empty when there is none)."""
    return "" if value is None else str(value)


def report_csv(report: dict) -> str:
    """The report as CSV: a header, then one ``section,key,value`` row per figure."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", "key", "value"))
    writer.writerows((section, key, csv_value(value)) for section, key, value in figure_rows(report))
    return buffer.getvalue()
