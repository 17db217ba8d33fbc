"""The catalogue REST API, version 1 (contract: openapi.yaml beside this file).

Authorization by scopes and groups:

- every hub user with access to the service searches and reads entries; locations (and
  loader snippets) only of entries they may use (see access.py);
- ``custom:catalogue:steward`` decides access requests, reads the audit log, reloads.

Domain errors are JSON ``{"status", "field", "message"}`` with 400/403/404/409/502.
"""
from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from factoryhub.webservice import ApiError, HealthHandler, JsonHandler, authenticated

from . import access_requests as requests_
from .access import Viewer, details, may_use, summary
from .catalogue import Catalogue, describe_problems
from .dcat import CatalogueInfo, catalogue_jsonld
from .entries import Agent, Entry
from .hub_groups import HubUnavailable
from .index import FACETS, QueryError
from .models import RequestState
from .snippets import entry_snippets

log = logging.getLogger(__name__)

STEWARD = "custom:catalogue:steward"
ENTRY_IN_PATH = r"(?P<entry_id>[a-z0-9][a-z0-9._-]{0,99})"  # entries.ENTRY_ID
REQUEST_IN_PATH = r"(?P<request_id>[0-9]{1,12})"
API = "api/v1"


class AccessRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    justification: str = Field(max_length=8000)
    acknowledge_terms: str = Field(pattern=r"^[0-9a-f]{64}$",
                                   description="SHA-256 of the terms text shown with the entry")


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    note: str = Field("", max_length=4000)


class CatalogueHandler(JsonHandler):
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
        """The served snapshot: version, size, problems (their list for stewards only)."""
        catalogue = self.catalogue
        return {"version": catalogue.version, "loaded_at": catalogue.loaded_at, "entries": len(catalogue.entries),
                "stale": list(catalogue.stale),
                "problems": describe_problems(catalogue.problems) if self.is_steward else len(catalogue.problems)}

    def catalogue_info(self) -> CatalogueInfo:
        settings = self.settings
        # stable IRIs need the configured public address; a request's Host header is the fallback
        base = settings["public_url"] or f"{self.request.protocol}://{self.request.host}"
        homepage = f"{base}{settings['service_prefix']}"
        return CatalogueInfo(title=settings["catalogue_title"], description=settings["catalogue_description"],
                             publisher=Agent(settings["publisher_name"], settings.get("publisher_url") or None),
                             homepage=homepage)


class EntriesHandler(CatalogueHandler):
    @authenticated
    async def get(self):
        viewer = await self.viewer()
        catalogue = self.catalogue
        filters = {facet: values for facet in FACETS if (values := self.get_arguments(facet))}
        if any(len(values) > 50 for values in filters.values()):
            raise ApiError(400, "a facet may be filtered by at most 50 values")
        usable_only = self.get_argument("usable", "") in ("1", "true")
        limit, offset = self.bounded("limit", 20, 1, 100), self.bounded("offset", 0, 0, 100_000)
        within = catalogue.index.usable_by(viewer.groups, viewer.steward) if usable_only else None
        try:
            results = catalogue.index.search(self.get_argument("q", ""), filters, within, limit, offset)
        except QueryError as err:
            raise ApiError(400, str(err), err.field) from None
        entries = []
        for position in results.ids:
            entry = catalogue.entries[position]
            entries.append({**summary(entry), "usable": may_use(entry, viewer)})
        self.answer({"total": results.total, "limit": limit, "offset": offset, "entries": entries,
                     "facets": results.facets, "catalogue": {"version": catalogue.version,
                                                             "entries": len(catalogue.entries)}})


class EntryHandler(CatalogueHandler):
    @authenticated
    async def get(self, entry_id):
        entry, viewer = self.entry(entry_id), await self.viewer()
        shown = details(entry, viewer)
        if shown["usable"]:
            shown["snippets"] = entry_snippets(entry)
        if viewer.name and entry.access == "restricted":
            with self.db.read() as session:
                shown["requests"] = [requests_.as_dict(r) for r in
                                     requests_.requests_of(session, viewer.name, entry_id=entry.id, limit=20)]
        self.answer(shown)


class SnippetsHandler(CatalogueHandler):
    @authenticated
    async def get(self, entry_id):
        entry, viewer = self.entry(entry_id), await self.viewer()
        if not may_use(entry, viewer):
            raise ApiError(403, f"{entry.id} is restricted: request access first")
        self.answer({"entry_id": entry.id, "distributions": entry_snippets(entry)})


class EntryRequestsHandler(CatalogueHandler):
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
    @authenticated
    def get(self):
        everyone = self.get_argument("all", "") in ("1", "true")
        if everyone:
            self.require_steward()
        state_text = self.get_argument("state", "")
        if state_text and state_text not in RequestState.__members__:
            raise ApiError(400, f"state: must be one of {', '.join(RequestState.__members__)}", "state")
        with self.db.read() as session:
            found = requests_.requests_of(session, None if everyone else self.current_user["name"],
                                          RequestState(state_text) if state_text else None)
            self.answer({"requests": [requests_.as_dict(r) for r in found]})


class DecisionHandler(CatalogueHandler):
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
    @authenticated
    def post(self, request_id):
        try:
            with self.db.write() as session:
                request = requests_.as_dict(requests_.withdraw(session, int(request_id), self.current_user["name"]))
        except requests_.RequestRefused as err:
            raise self.refused(err) from None
        self.answer(request)


class AuditHandler(CatalogueHandler):
    @authenticated
    def get(self):
        self.require_steward()
        before = self.get_argument("before", "")
        with self.db.read() as session:
            self.answer({"entries": requests_.audit_entries(session, int(before) if before.isdigit() else None)})


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
    @authenticated
    def get(self):
        self.answer(self.status())


class ReloadHandler(CatalogueHandler):
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
        (rf"{prefix}{API}/requests", RequestsHandler, args),
        (rf"{prefix}{API}/requests/{REQUEST_IN_PATH}/decision", DecisionHandler, args),
        (rf"{prefix}{API}/requests/{REQUEST_IN_PATH}/withdraw", WithdrawHandler, args),
        (rf"{prefix}{API}/audit", AuditHandler, args),
        (rf"{prefix}{API}/catalogue\.jsonld", ExportHandler, args),
        (rf"{prefix}{API}/public/catalogue\.jsonld", PublicExportHandler, args),
        (rf"{prefix}{API}/status", StatusHandler, args),
        (rf"{prefix}{API}/reload", ReloadHandler, args),
    ]
