"""The catalogue's pages: browse and search, an entry with its access request form, and the
data stewards' page of integrity notifications, requests, decisions, audit trail and catalogue problems.

Every value is rendered through the templates' escaping: entry text is shown as text.
Forms post back here with an xsrf token and go through the same domain functions as the API.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from tornado import web

from factoryhub import webservice

from . import access_requests as requests_
from . import integrity_records as integrity
from .access import details, may_use, summary, terms_digest, terms_text
from .api import ENTRY_IN_PATH, REQUEST_IN_PATH, STEWARD, CatalogueHandler
from .catalogue import describe_problems
from .hub_groups import HubUnavailable
from .index import FACETS, QueryError
from .models import RequestState
from .snippets import entry_snippets

TEMPLATES = Path(__file__).with_name("templates")
PAGE_SIZE = 25


class PageHandler(CatalogueHandler, webservice.PageHandler):
    """Base of the catalogue's HTML pages: the shared page handler plus whether the viewer is a steward."""
    def page_values(self) -> dict:
        return {**super().page_values(), "is_steward": self.is_steward}


class SearchPage(PageHandler):
    """The catalogue's search page: query, facet filters and one page of results for the viewer."""
    @web.authenticated
    async def get(self):
        viewer = await self.viewer()
        catalogue = self.catalogue
        query = self.get_argument("q", "")
        filters = {facet: values[:50] for facet in FACETS if (values := self.get_arguments(facet))}
        offset = self.bounded_page()
        message, results = "", None
        try:
            results = catalogue.index.search(query, filters, None, PAGE_SIZE, offset)
        except QueryError as err:
            message = str(err)
        found = [] if results is None else [catalogue.entries[i] for i in results.ids]
        with self.db.read() as session:
            hits = integrity.annotate_summaries(session, [(e, {**summary(e), "usable": may_use(e, viewer)})
                                                          for e in found])

        def link(**changes) -> str:
            params = {"q": query, **{f: v for f, v in filters.items()}, **changes}
            return "?" + urlencode({k: v for k, v in params.items() if v not in ("", [], None)}, doseq=True)

        self.page("search.html", status=400 if message else 200, message=message, message_kind="warning",
                  title="Data and model catalogue", query=query, filters=filters, hits=hits,
                  total=results.total if results else 0, facets=results.facets if results else {},
                  offset=offset, page_size=PAGE_SIZE, link=link)

    def bounded_page(self) -> int:
        """The offset asked for, or the first page when it is no whole number from 0 to 100,000."""
        try:
            return self.bounded("offset", 0, 0, 100_000)
        except webservice.ApiError:  # a page shows the first results rather than an error
            return 0


class EntryPage(PageHandler):
    """An entry's own page: its metadata, distributions, snippets and, where restricted, the access request form."""
    @web.authenticated
    async def get(self, entry_id):
        await self.render_entry(entry_id)

    async def render_entry(self, entry_id: str, status: int = 200, message: str = "", kind: str = "info",
                           justification: str = ""):
        entry = self.catalogue.get(entry_id)
        if entry is None:
            raise web.HTTPError(404, f"no catalogue entry {entry_id!r}")
        viewer = await self.viewer()
        shown = details(entry, viewer)
        mine = []
        with self.db.read() as session:
            integrity.annotate_details(session, entry, shown)
            if entry.access == "restricted" and viewer.name:
                mine = [requests_.as_dict(r) for r in
                        requests_.requests_of(session, viewer.name, entry_id=entry.id, limit=10)]
        terms = terms_text(entry) if entry.access == "restricted" else ""
        self.page("entry.html", status=status, message=message, message_kind=kind, title=entry.title, entry=shown,
                  snippets=entry_snippets(entry) if shown["usable"] else [], terms=terms,
                  terms_sha256=terms_digest(terms) if terms else "", requests=mine, justification=justification,
                  pending=any(r["state"] == "pending" for r in mine))

    @web.authenticated
    async def post(self, entry_id):  # an access request from the form
        entry = self.catalogue.get(entry_id)
        if entry is None:
            raise web.HTTPError(404, f"no catalogue entry {entry_id!r}")
        viewer = await self.viewer()
        justification = self.get_body_argument("justification", "")
        if self.get_body_argument("acknowledge", "") != "yes":
            await self.render_entry(entry_id, 400, "Tick the box to acknowledge the terms before you ask for access.",
                                    "warning", justification)
            return
        try:
            with self.db.write() as session:
                request = requests_.ask(session, entry, viewer, justification,
                                        self.get_body_argument("terms_sha256", ""))
                number = request.id
        except requests_.RequestRefused as err:
            await self.render_entry(entry_id, err.status, str(err), "warning", justification)
            return
        await self.render_entry(entry_id, 201, f"Your request #{number} was sent to the data stewards.", "success")


class StewardPage(PageHandler):
    """The stewards' page: pending requests, recent decisions, the audit log and the catalogue's load problems."""
    @web.authenticated
    def get(self):
        self.render_steward()

    def render_steward(self, status: int = 200, message: str = "", kind: str = "info"):
        if not self.is_steward:
            raise web.HTTPError(403, f"deciding access requests needs the {STEWARD} permission")
        catalogue = self.catalogue
        with self.db.read() as session:
            pending = [requests_.as_dict(r) for r in requests_.requests_of(session, None, RequestState.pending)]
            recent = [requests_.as_dict(r) for r in requests_.requests_of(session, None, limit=30)
                      if r.state != RequestState.pending]
            audit = requests_.audit_entries(session, limit=50)
            notes = [integrity.notification_dict(n) for n in integrity.notifications(session, limit=50)]
        self.page("steward.html", status=status, message=message, message_kind=kind, title="Data stewardship",
                  open_notes=[n for n in notes if n["resolved_at"] is None],
                  resolved_notes=[n for n in notes if n["resolved_at"] is not None][:10],
                  verifying=self.service.verifier.running, queued=self.service.verifier.queued,
                  pending=pending, recent=recent, audit=audit, problems=describe_problems(catalogue.problems),
                  notices=describe_problems(catalogue.notices),
                  stale=catalogue.stale, version=catalogue.version, entry_count=len(catalogue.entries))


class DecisionPage(StewardPage):
    """A steward's approve or reject form post for one access request."""
    @web.authenticated
    async def post(self, request_id):
        if not self.is_steward:
            raise web.HTTPError(403, f"deciding access requests needs the {STEWARD} permission")
        decision = self.get_body_argument("decision", "")
        if decision not in ("approve", "reject"):
            self.render_steward(400, "Choose approve or reject.", "warning")
            return
        try:
            decided = await self.service.decide(int(request_id), self.current_user["name"], decision == "approve",
                                                self.get_body_argument("note", ""))
        except requests_.RequestRefused as err:
            self.render_steward(err.status, str(err), "warning")
            return
        except HubUnavailable as err:
            self.render_steward(502, f"Request #{request_id} stays pending: the hub did not add the user to the "
                                     f"group ({err}).", "danger")
            return
        self.render_steward(200, f"Request #{request_id} by {decided['username']} for {decided['entry_id']}: "
                                 f"{decided['state']}.", "success")


class VerifyPage(StewardPage):
    """A steward's "verify now" for one entry (from a notification on the stewards' page)."""
    @web.authenticated
    def post(self, entry_id):
        if not self.is_steward:
            raise web.HTTPError(403, f"verifying data needs the {STEWARD} permission")
        if self.catalogue.get(entry_id) is None:
            self.render_steward(404, f"No catalogue entry {entry_id!r}.", "warning")
            return
        position = self.service.verifier.request(entry_id, f"user:{self.current_user['name']}")
        self.render_steward(202, f"{entry_id} will be verified {'next' if position == 0 else f'after {position} more'}"
                                 "; reload this page to see the result.", "info")


def routes(prefix: str, service) -> list:
    """The catalogue's HTML page routes under ``prefix``, each handler given the running ``service``."""
    args = {"service": service}
    return [
        (rf"{prefix}", SearchPage, args),
        (rf"{prefix}entries/{ENTRY_IN_PATH}", EntryPage, args),
        (rf"{prefix}steward", StewardPage, args),
        (rf"{prefix}steward/requests/{REQUEST_IN_PATH}", DecisionPage, args),
        (rf"{prefix}steward/verify/{ENTRY_IN_PATH}", VerifyPage, args),
    ]
