"""The catalogue REST API, version 1 (contract: openapi.yaml beside this file).

Authorization by scopes and groups:

- every hub user with access to the service searches and reads entries; locations (and
  loader snippets) only of entries they may use (see access.py);
- ``custom:catalogue:steward`` decides access requests, reads the audit log, reloads, asks for
  verifications and reads the notifications they raise.

Errors are JSON ``{"status", "field", "message"}``: 400 (a parameter or the body), 401 (no
identity), 403 (no right), 404 (no such entry or request, or no such path), 409 (not in this
state), 502/503 (the hub or the folder failed), 405 with ``Allow``.
"""
from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from factoryhub.report_period import KPI_READ, requested_period
from factoryhub.servicedb import utcnow
from factoryhub.webservice import ApiError, HealthHandler, JsonHandler, api_catch_all, authenticated

from . import access_requests as requests_
from . import integrity_records as integrity
from . import kpi, metrics
from .access import Viewer, details, may_use, summary
from .catalogue import Catalogue, describe_problems
from .dcat import CatalogueInfo, catalogue_jsonld
from .entries import Agent, Entry
from .hub_groups import HubUnavailable
from .index import FACETS, MAX_QUERY_CHARS, QueryError
from .models import RequestState
from .snippets import entry_snippets

log = logging.getLogger(__name__)

STEWARD = "custom:catalogue:steward"
ENTRY_IN_PATH = r"(?P<entry_id>[a-z0-9][a-z0-9._-]{0,99})"  # entries.ENTRY_ID
REQUEST_IN_PATH = r"(?P<request_id>[0-9]{1,12})"
API = "api/v1"
ID_MAX = 2**63 - 1  # the audit trail's ids are BIGINT-sized at most (openapi.yaml: before's maximum)
MAX_FACET_VALUES = 50
# facets whose values are a closed list (openapi.yaml's enums); the others are free text
FACET_CHOICES = {"kind": ("dataset", "model"), "access": ("open", "registered", "restricted")}


class AccessRequestBody(BaseModel):
    """POST entries/{id}/requests: why, and the digest of the terms the user read."""
    model_config = ConfigDict(extra="forbid")
    justification: str = Field(max_length=requests_.MAX_JUSTIFICATION,
                               description="at least MIN_JUSTIFICATION characters that are not white space")
    acknowledge_terms: str = Field(pattern=r"^[0-9a-f]{64}$",
                                   description="SHA-256 of the terms text shown with the entry")


class DecisionBody(BaseModel):
    """POST requests/{id}/decision: approve or reject (with a note the user reads)."""
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    note: str = Field("", max_length=4000)


class CatalogueHandler(JsonHandler):
    """The catalogue API's handlers: the served snapshot, the database, who may see what."""
    service_label = "the catalogue service"

    def initialize(self, service):
        self.service = service  # the running CatalogueService: snapshot, database, hub groups

    @property
    def catalogue(self) -> Catalogue:
        return self.service.catalogue

    @property
    def db(self):
        return self.service.db

    @property
    def is_steward(self) -> bool:
        return STEWARD in self.scopes

    def require_steward(self) -> None:
        if not self.is_steward:
            raise ApiError(403, f"this needs the {STEWARD} permission (data stewards)")

    async def viewer(self) -> Viewer:
        """The caller, with their groups as the hub knows them now (briefly cached)."""
        name = self.username
        if name is None:
            return Viewer(self.current_user["name"], frozenset(), self.is_steward)
        try:
            groups = await self.service.hub_groups.groups_of(name)
        except HubUnavailable as err:  # the identity the hub gave at login still names the groups
            log.warning("Group lookup for %s failed, using the login's groups: %s", name, err)
            groups = frozenset(self.current_user.get("groups") or ())
        return Viewer(name, groups, self.is_steward)

    def entry(self, entry_id: str) -> Entry:
        entry = self.catalogue.get(entry_id)
        if entry is None:
            raise ApiError(404, f"no catalogue entry {entry_id!r}")
        return entry

    def refused(self, err: requests_.RequestRefused) -> ApiError:
        return ApiError(err.status, str(err), err.field)

    def status(self) -> dict:
        """The served snapshot: version, size, problems and notices (their lists for stewards only)."""
        catalogue = self.catalogue
        steward = self.is_steward
        return {"version": catalogue.version, "loaded_at": catalogue.loaded_at, "entries": len(catalogue.entries),
                "stale": list(catalogue.stale),
                "problems": describe_problems(catalogue.problems) if steward else len(catalogue.problems),
                "notices": describe_problems(catalogue.notices) if steward else len(catalogue.notices)}

    def catalogue_info(self) -> CatalogueInfo:
        settings = self.settings
        # stable IRIs need the configured public address; a request's Host header is the fallback
        base = settings["public_url"] or f"{self.request.protocol}://{self.request.host}"
        homepage = f"{base}{settings['service_prefix']}"
        return CatalogueInfo(title=settings["catalogue_title"], description=settings["catalogue_description"],
                             publisher=Agent(settings["publisher_name"], settings.get("publisher_url") or None),
                             homepage=homepage)


class EntriesHandler(CatalogueHandler):
    """GET entries: search with facets."""
    @authenticated
    async def get(self):
        viewer = await self.viewer()
        catalogue = self.catalogue
        filters = {facet: values for facet in FACETS
                   if (values := self.choices(facet, FACET_CHOICES.get(facet), at_most=MAX_FACET_VALUES))}
        usable_only = self.flag("usable")
        limit, offset = self.bounded("limit", 20, 1, 100), self.bounded("offset", 0, 0, 100_000)
        query = self.text("q", MAX_QUERY_CHARS)
        within = catalogue.index.usable_by(viewer.groups, viewer.steward) if usable_only else None
        metrics.SEARCHES.inc()
        try:
            results = catalogue.index.search(query, filters, within, limit, offset)
        except QueryError as err:
            raise ApiError(400, str(err), err.field) from None
        found = [catalogue.entries[position] for position in results.ids]
        with self.db.read() as session:
            entries = integrity.annotate_summaries(session, [(e, {**summary(e), "usable": may_use(e, viewer)})
                                                             for e in found])
        self.answer({"total": results.total, "limit": limit, "offset": offset, "entries": entries,
                     "facets": results.facets, "catalogue": {"version": catalogue.version,
                                                             "entries": len(catalogue.entries)}})


class EntryHandler(CatalogueHandler):
    """GET entries/{id}: one entry as the caller may see it."""
    @authenticated
    async def get(self, entry_id):
        entry, viewer = self.entry(entry_id), await self.viewer()
        shown = details(entry, viewer)
        if shown["usable"]:
            shown["snippets"] = entry_snippets(entry)
        with self.db.read() as session:
            integrity.annotate_details(session, entry, shown)
            if viewer.name and entry.access == "restricted":
                shown["requests"] = [requests_.as_dict(r) for r in
                                     requests_.requests_of(session, viewer.name, entry_id=entry.id, limit=20)]
        self.answer(shown)


class SnippetsHandler(CatalogueHandler):
    """GET entries/{id}/snippets: loader code, for users who may use the entry."""
    @authenticated
    async def get(self, entry_id):
        entry, viewer = self.entry(entry_id), await self.viewer()
        if not may_use(entry, viewer):
            raise ApiError(403, f"{entry.id} is restricted: request access first")
        self.answer({"entry_id": entry.id, "distributions": entry_snippets(entry)})


class EntryRequestsHandler(CatalogueHandler):
    """POST entries/{id}/requests: a hub user asks for a restricted entry."""
    @authenticated
    async def post(self, entry_id):
        entry, viewer = self.entry(entry_id), await self.viewer()
        if viewer.name is None or self.username is None:
            raise ApiError(403, "access is requested by a hub user, not a service")
        body = self.body(AccessRequestBody)
        try:
            with self.db.write() as session:
                request = requests_.as_dict(requests_.ask(session, entry, viewer, body.justification,
                                                          body.acknowledge_terms))
        except requests_.RequestRefused as err:
            raise self.refused(err) from None
        log.info("Access request #%s: %s asks for %s", request["id"], viewer.name, entry.id)
        self.answer(request, 201)


class RequestsHandler(CatalogueHandler):
    """GET requests: the caller's requests, or everyone's for stewards."""
    @authenticated
    def get(self):
        everyone = self.flag("all")
        state_text = self.choice("state", tuple(RequestState.__members__))
        if everyone:
            self.require_steward()
        with self.db.read() as session:
            found = requests_.requests_of(session, None if everyone else self.current_user["name"],
                                          RequestState(state_text) if state_text else None)
            self.answer({"requests": [requests_.as_dict(r) for r in found]})


class DecisionHandler(CatalogueHandler):
    """POST requests/{id}/decision: a steward approves or rejects."""
    @authenticated
    async def post(self, request_id):
        self.require_steward()
        body = self.body(DecisionBody)
        try:
            request = await self.service.decide(int(request_id), self.current_user["name"],
                                                body.decision == "approve", body.note)
        except requests_.RequestRefused as err:
            raise self.refused(err) from None
        except HubUnavailable as err:
            raise ApiError(502, f"the request stays pending: could not add the user to the group ({err})") from None
        self.answer(request)


class WithdrawHandler(CatalogueHandler):
    """POST requests/{id}/withdraw: a user takes back their pending request."""
    @authenticated
    def post(self, request_id):
        try:
            with self.db.write() as session:
                request = requests_.as_dict(requests_.withdraw(session, int(request_id), self.current_user["name"]))
        except requests_.RequestRefused as err:
            raise self.refused(err) from None
        self.answer(request)


class AuditHandler(CatalogueHandler):
    """GET audit: the audit trail (stewards)."""
    @authenticated
    def get(self):
        self.require_steward()
        before = self.bounded("before", None, 1, ID_MAX)
        with self.db.read() as session:
            self.answer({"entries": requests_.audit_entries(session, before)})


class KpiHandler(CatalogueHandler):
    """GET reports/kpi: access requests granted in a period (stewards, the KPI report)."""
    @authenticated
    def get(self):
        if not (self.is_steward or KPI_READ in self.scopes):
            raise ApiError(403, f"this needs the {STEWARD} or {KPI_READ} permission")
        period = requested_period(self, utcnow().date())
        with self.db.read() as session:
            self.answer({"period": period.as_dict(), **kpi.kpi_counts(session, period)})


class VerificationHandler(CatalogueHandler):
    """POST entries/{id}/verification: verify the entry's data against its checksums soon (stewards)."""
    @authenticated
    def post(self, entry_id):
        self.require_steward()
        entry = self.entry(entry_id)
        position = self.service.verifier.request(entry.id, f"user:{self.current_user['name']}")
        log.info("Verification of %s asked for by %s", entry.id, self.current_user["name"])
        self.answer({"entry_id": entry.id, "queued": True, "position": position,
                     "running": self.service.verifier.running}, 202)


class NotificationsHandler(CatalogueHandler):
    """GET notifications: what verifications found for the stewards (``open=1``: unresolved only)."""
    @authenticated
    def get(self):
        self.require_steward()
        with self.db.read() as session:
            found = integrity.notifications(session, open_only=self.flag("open"))
            self.answer({"notifications": [integrity.notification_dict(n) for n in found]})


class ExportHandler(CatalogueHandler):
    """DCAT-AP 3 JSON-LD of the catalogue as the caller may see it."""

    @authenticated
    async def get(self):
        viewer = await self.viewer()
        self._export(viewer)

    def _export(self, viewer: Viewer):
        document = catalogue_jsonld(self.catalogue_info(), self.catalogue.entries, lambda e: may_use(e, viewer))
        self.answer(document, content_type="application/ld+json")


class PublicExportHandler(ExportHandler):
    """The anonymous view for national portals' harvesters (when the site publishes it)."""

    def get(self):
        if not self.settings["public_export"]:
            raise ApiError(404, "this site does not publish its catalogue")
        self._export(Viewer(None))


class StatusHandler(CatalogueHandler):
    """GET status: the served snapshot's version, size and problems."""
    @authenticated
    def get(self):
        self.answer(self.status())


class ReloadHandler(CatalogueHandler):
    """POST reload: look for changed entry files now (stewards)."""
    @authenticated
    async def post(self):
        self.require_steward()
        try:
            await self.service.reload_in_background()
        except Exception as err:  # noqa: BLE001 - the previous snapshot keeps serving; say why
            raise ApiError(503, f"the catalogue was not reloaded ({err}); the previous one keeps serving") from None
        self.answer(self.status())


def routes(prefix: str, service) -> list:
    """URL patterns below the service prefix (e.g. /services/factoryhub-catalogue/)."""
    args = {"service": service}
    return [
        (rf"{prefix}{API}/health", HealthHandler),
        (rf"{prefix}{API}/entries", EntriesHandler, args),
        (rf"{prefix}{API}/entries/{ENTRY_IN_PATH}", EntryHandler, args),
        (rf"{prefix}{API}/entries/{ENTRY_IN_PATH}/snippets", SnippetsHandler, args),
        (rf"{prefix}{API}/entries/{ENTRY_IN_PATH}/requests", EntryRequestsHandler, args),
        (rf"{prefix}{API}/entries/{ENTRY_IN_PATH}/verification", VerificationHandler, args),
        (rf"{prefix}{API}/notifications", NotificationsHandler, args),
        (rf"{prefix}{API}/requests", RequestsHandler, args),
        (rf"{prefix}{API}/requests/{REQUEST_IN_PATH}/decision", DecisionHandler, args),
        (rf"{prefix}{API}/requests/{REQUEST_IN_PATH}/withdraw", WithdrawHandler, args),
        (rf"{prefix}{API}/audit", AuditHandler, args),
        (rf"{prefix}{API}/reports/kpi", KpiHandler, args),
        (rf"{prefix}{API}/catalogue\.jsonld", ExportHandler, args),
        (rf"{prefix}{API}/public/catalogue\.jsonld", PublicExportHandler, args),
        (rf"{prefix}{API}/status", StatusHandler, args),
        (rf"{prefix}{API}/reload", ReloadHandler, args),
        api_catch_all(prefix),  # last: any other path below api/ is a JSON 404
    ]
