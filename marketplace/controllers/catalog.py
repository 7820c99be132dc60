"""Catalog pages, the listings API, /data.json, publishing forms and harvest administration."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import Redirect, Stream, Template
from sqlmodel import col, select

from marketplace import accounts, jobs
from marketplace.accounts import NotFound, ValidationFailed
from marketplace.auth import Permission, PermissionDenied, Principal, require
from marketplace.catalog import services
from marketplace.catalog.export import (
    VERSIONS,
    ExportReport,
    catalog_validators,
    stream_export,
    validation_report,
)
from marketplace.catalog.forms import field_error, form_values_of, parse_listing_form
from marketplace.catalog.harvest import get_or_create_source, start_run
from marketplace.catalog.jobs import HARVEST_JOB
from marketplace.catalog.models import (
    HarvestRun,
    HarvestSource,
    Listing,
    ListingKind,
    ListingStatus,
)
from marketplace.catalog.records import diff_snapshots
from marketplace.catalog.search import (
    FACET_LABELS,
    FACET_SCAN_LIMIT,
    MULTI_FACETS,
    PER_PAGE_MAX,
    SINGLE_FACETS,
    SORTS,
    FacetValue,
    SearchQuery,
)
from marketplace.catalog.usage import count_usage, usage_of
from marketplace.dcat import completeness, json_ld_script_text, schema_org_dataset
from marketplace.guards import admin, signed_in
from marketplace.models import Division, Job
from marketplace.types import utcnow
from marketplace.web import (
    DbSession,
    flash,
    form_value,
    page_or_partial,
    principal,
    redirect,
    render,
)
from procurement.services.common import today_at_hhs
from procurement.services.reuse import may_request, reuse_target_or_none
from procurement.services.reuse_spans import cost_per_reuse_view

MAX_CATALOG_UPLOAD = 200 * 1024 * 1024
KIND_LABELS = {kind.value: kind.label for kind in ListingKind}


def search_query_from(request: Request) -> SearchQuery:
    """Validate the query string of the catalog page and the API into a SearchQuery."""
    params = request.query_params

    def many(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v[:200] for v in params.getall(name, []) if v))[:20]

    def number(name: str, default: int, upper: int) -> int:
        try:
            return max(1, min(int(params.get(name, default)), upper))
        except (TypeError, ValueError):
            return default

    sort = params.get("sort", "relevance")
    return SearchQuery(
        q=(params.get("q") or "")[:2000],
        kind=many("kind"),
        division=many("division"),
        access_level=many("access_level"),
        theme=many("theme"),
        keyword=many("keyword"),
        format=many("format"),
        license=many("license"),
        sort=sort if sort in SORTS else "relevance",
        page=number("page", 1, 10_000),
        per_page=number("per_page", 20, PER_PAGE_MAX),
        include_retired=params.get("retired") == "1",
    )


def query_parts(query: SearchQuery, **changes: Any) -> dict[str, str]:
    """Each parameter of the query string for `query` with some changed, encoded on its own."""
    values = {
        "q": query.q,
        "sort": query.sort,
        "page": query.page,
        **{k: v for k, v in query.filters().items()},
    }
    if query.include_retired:
        values["retired"] = "1"
    values.update(changes)
    parts: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, tuple | list):
            parts[name] = urlencode([(name, v) for v in value])
        elif (
            value not in ("", None)
            and not (name == "page" and value == 1)
            and not (name == "sort" and value == "relevance")
        ):
            parts[name] = urlencode([(name, value)])
    return parts


def query_string(query: SearchQuery, **changes: Any) -> str:
    """The query string for `query` with some parameters changed (links for facets and pages)."""
    return "&".join(part for part in query_parts(query, **changes).values() if part)


def toggle(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    return tuple(v for v in values if v != value) if value in values else (*values, value)


def facet_links(
    query: SearchQuery, facets: dict[str, list[FacetValue]]
) -> dict[str, list[tuple[FacetValue, str]]]:
    """Each facet value with its link: the query with that value toggled, back on page 1.

    The same URLs as `query_string(query, page=1, **{facet: toggle(...)})`, which a page of
    seventy facet values spent a third of its rendering on: the other parameters are encoded
    once, and each link encodes only the facet it changes.
    """
    parts = query_parts(query, page=1)
    links: dict[str, list[tuple[FacetValue, str]]] = {}
    for facet, values in facets.items():
        current = getattr(query, facet)
        links[facet] = []
        for item in values:
            toggled = urlencode([(facet, v) for v in toggle(current, item.value)])
            changed = {**parts, facet: toggled}
            links[facet].append((item, "/catalog?" + "&".join(p for p in changed.values() if p)))
    return links


class CatalogController(Controller):
    @get("/catalog", name="catalog", sync_to_thread=True)
    def index(self, request: Request, db: DbSession) -> Template:
        """Search the catalog; the results fragment is what the live search swaps."""
        query = search_query_from(request)
        page = services.search(db, query, principal(request))
        return page_or_partial(
            request,
            "marketplace/catalog.html",
            "marketplace/_results.html",
            {
                "page": page,
                "query": query,
                "sorts": SORTS,
                "facet_labels": FACET_LABELS,
                "facet_order": (*SINGLE_FACETS, *MULTI_FACETS),
                "facet_scan_limit": FACET_SCAN_LIMIT,
                "facet_links": facet_links(query, page.facets),
                "kind_labels": KIND_LABELS,
                "qs": query_string,
                "toggle": toggle,
            },
        )

    @get("/catalog/listings/{listing_id:int}", name="listing", sync_to_thread=True)
    def detail(self, request: Request, db: DbSession, listing_id: FromPath[int]) -> Template:
        """A listing: all metadata, distributions (when allowed), contact, history, JSON-LD."""
        viewer = principal(request)
        listing = services.get_listing(db, str(listing_id), viewer)
        _, divisions = services.division_maps(db)
        record = services.visible_record(listing, viewer)
        url = f"{request.app.state.settings.public_base_url}/catalog/listings/{listing.id}"
        count_usage(db, listing.id or 0, today=today_at_hhs(utcnow()), views=1)
        reuse_target = reuse_target_or_none(db, listing_id=listing.id or 0)
        return render(
            request,
            "marketplace/listing_detail.html",
            {
                "usage": usage_of(db, listing.id or 0),
                "cost_per_reuse": (
                    cost_per_reuse_view(
                        db,
                        reuse_target.licence,
                        reuse_target.purchase,
                        reuse_target.owner.code,
                        chart_id="cost-per-reuse",
                    )
                    # Purchase amounts are staff content: never shown to anonymous callers.
                    if viewer and reuse_target and reuse_target.licence and reuse_target.purchase
                    else None
                ),
                "reuse_target": reuse_target,
                "may_request_reuse": reuse_target is not None and may_request(viewer, reuse_target),
                "listing": listing,
                "record": record,
                "division": divisions.get(listing.division_id or 0),
                "distributions_hidden": not services.can_see_distributions(listing, viewer),
                "can_edit": services.can_edit(listing, viewer),
                "duplicate_of": _visible_duplicate(db, listing, viewer),
                "completeness": completeness(record),
                "versions": services.versions(db, listing)[:10],
                "related": services.related_listings(db, listing, viewer),
                "json_ld": json_ld_script_text(schema_org_dataset(record, url)),
                "kind_label": ListingKind(listing.kind).label
                if listing.kind in ListingKind._value2member_map_
                else listing.kind,
            },
        )

    @get(
        "/catalog/listings/{listing_id:int}/distributions/{position:int}",
        name="listing_download",
        sync_to_thread=True,
    )
    def download(
        self, request: Request, db: DbSession, listing_id: FromPath[int], position: FromPath[int]
    ) -> Redirect:
        """Count a download, then send the caller to the distribution's own URL (only URLs the
        listing itself holds, chosen by position, so this is no open redirect)."""
        viewer = principal(request)
        listing = services.get_listing(db, str(listing_id), viewer)
        record = services.visible_record(listing, viewer)
        if not services.can_see_distributions(listing, viewer) or not (
            1 <= position <= len(record.distributions)
        ):
            raise NotFound
        distribution = record.distributions[position - 1]
        target = distribution.download_url or distribution.access_url
        if not target:
            raise NotFound
        count_usage(db, listing.id or 0, today=today_at_hhs(utcnow()), downloads=1)
        return Redirect(path=target, status_code=302)

    @get("/catalog/listings/{listing_id:int}/history", name="listing_history", sync_to_thread=True)
    def history(self, request: Request, db: DbSession, listing_id: FromPath[int]) -> Template:
        """Every version of a listing, each with a readable diff against the one before."""
        listing = services.get_listing(db, str(listing_id), principal(request))
        versions = services.versions(db, listing)
        changes = []
        for newer, older in zip(versions, [*versions[1:], None], strict=True):
            changes.append((newer, diff_snapshots(older.snapshot if older else {}, newer.snapshot)))
        return render(
            request, "marketplace/listing_history.html", {"listing": listing, "changes": changes}
        )

    @get("/catalog/identifier", name="listing_by_identifier", sync_to_thread=True)
    def by_identifier(self, request: Request, db: DbSession) -> Redirect:
        """Resolve a DCAT identifier (often a URL) to its listing page."""
        listing = services.get_listing(
            db, (request.query_params.get("id") or "")[:500], principal(request)
        )
        return redirect(f"/catalog/listings/{listing.id}")

    # ------------------------------------------------------------- publishing
    @get("/catalog/new", name="listing_new", guards=[signed_in], sync_to_thread=True)
    def new(self, request: Request, db: DbSession) -> Template:
        user: Principal = principal(request)  # type: ignore[assignment]
        require(user, Permission.PUBLISH_LISTING, user.division_id)
        division = db.get(Division, user.division_id)
        values = {
            "kind": "dataset",
            "status": "draft",
            "access_level": "public",
            "bureau_codes": division.bureau_code if division else "",
            "distributions": [],
        }
        return self._form(request, None, values, {})

    def _form(
        self,
        request: Request,
        listing: Listing | None,
        values: dict,
        errors: dict,
        status_code: int = 200,
    ) -> Template:
        record = None
        if values.get("title") is not None and listing is not None:
            record = services.record_from_json(listing.record)
        return render(
            request,
            "marketplace/listing_form.html",
            {
                "listing": listing,
                "values": values,
                "errors": errors,
                "kinds": services.kind_choices(),
                "checklist": completeness(record).checklist if record else None,
            },
            status_code=status_code,
        )

    def _parse(
        self,
        db: DbSession,
        user: Principal,
        data: dict[str, Any],
        identifier: str,
        division_id: int | None,
    ) -> Any:
        division = db.get(Division, division_id) if division_id else None
        return parse_listing_form(
            data,
            identifier=identifier,
            publisher_name=division.name if division else "",
            publisher_parent="U.S. Department of Health and Human Services",
            default_bureau=division.bureau_code if division else "009:00",
        )

    @post("/catalog/new", name="listing_create", guards=[signed_in], sync_to_thread=True)
    def create(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        """Create a listing for the steward's division (draft or published)."""
        user: Principal = principal(request)  # type: ignore[assignment]
        require(user, Permission.PUBLISH_LISTING, user.division_id)
        identifier = (
            form_value(data, "identifier")[:300]
            or f"hhs-{user.division_code.lower()}-{secrets.token_hex(6)}"
        )
        parsed = self._parse(db, user, data, identifier, user.division_id)
        if parsed.errors:
            return self._form(request, None, parsed.values, parsed.errors, status_code=422)
        try:
            listing = services.create_listing(
                db,
                user,
                services.ListingInput(parsed.kind, parsed.status, parsed.record, parsed.details),
            )
        except ValidationFailed as exc:
            db.rollback()
            return self._form(request, None, parsed.values, exc.errors, status_code=422)
        flash(
            request,
            "Listing published." if listing.status == ListingStatus.PUBLISHED else "Draft saved.",
        )
        return redirect(f"/catalog/listings/{listing.id}")

    @get(
        "/catalog/listings/{listing_id:int}/edit",
        name="listing_edit",
        guards=[signed_in],
        sync_to_thread=True,
    )
    def edit(self, request: Request, db: DbSession, listing_id: FromPath[int]) -> Template:
        user = principal(request)
        listing = services.get_listing(db, str(listing_id), user)
        if not services.can_edit(listing, user):
            raise PermissionDenied(
                "Only data stewards of the owning division can publish or edit this."
            )
        record = services.record_from_json(listing.record)
        return self._form(
            request,
            listing,
            form_values_of(record, listing.kind, listing.status, listing.details),
            {},
        )

    @post(
        "/catalog/listings/{listing_id:int}/edit",
        name="listing_update",
        guards=[signed_in],
        sync_to_thread=True,
    )
    def update(
        self,
        request: Request,
        db: DbSession,
        listing_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        user: Principal = principal(request)  # type: ignore[assignment]
        listing = services.get_listing(db, str(listing_id), user)
        if not services.can_edit(listing, user):
            raise PermissionDenied(
                "Only data stewards of the owning division can publish or edit this."
            )
        parsed = self._parse(db, user, data, listing.identifier, listing.division_id)
        if parsed.errors:
            return self._form(request, listing, parsed.values, parsed.errors, status_code=422)
        services.update_listing(
            db,
            user,
            listing,
            services.ListingInput(parsed.kind, parsed.status, parsed.record, parsed.details),
        )
        flash(request, "Listing saved as a new version.")
        return redirect(f"/catalog/listings/{listing.id}")

    @post(
        "/catalog/listings/{listing_id:int}/status",
        name="listing_status",
        guards=[signed_in],
        sync_to_thread=True,
    )
    def change_status(
        self,
        request: Request,
        db: DbSession,
        listing_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Redirect:
        user: Principal = principal(request)  # type: ignore[assignment]
        listing = services.get_listing(db, str(listing_id), user)
        status = form_value(data, "status")
        if status not in ListingStatus._value2member_map_:
            raise ValidationFailed({"status": "Unknown status."})
        services.set_status(
            db, user, listing, ListingStatus(status), form_value(data, "reason")[:400]
        )
        flash(request, f"Listing is now {status}.")
        return redirect(f"/catalog/listings/{listing.id}")

    @post("/catalog/check", name="listing_check", guards=[signed_in], sync_to_thread=False)
    def check_field(self, request: Request, data: URLEncodedBody[dict[str, Any]]) -> Template:
        """Validate one field as the steward types (htmx swaps the field's message)."""
        name = form_value(data, "field")[:60]
        message = field_error(name, form_value(data, name)[:20000]) if name else None
        return Template(
            template_name="marketplace/_field_message.html",
            context={"name": name, "message": message},
        )

    @get("/catalog/mine", name="my_listings", guards=[signed_in], sync_to_thread=True)
    def mine(self, request: Request, db: DbSession) -> Template:
        """The caller's division's listings, drafts and retired ones included."""
        user: Principal = principal(request)  # type: ignore[assignment]
        rows = db.exec(
            select(Listing)
            .where(Listing.division_id == user.division_id)
            .order_by(col(Listing.updated_at).desc())
            .limit(500)
        ).all()
        return render(request, "marketplace/my_listings.html", {"listings": rows})


class DataJsonController(Controller):
    @get("/data.json", name="data_json", sync_to_thread=True)
    def data_json(self, request: Request, db: DbSession, state: State) -> Stream | Response:
        """The public catalog as DCAT-US 1.1 (or 3.0 with ?version=3.0), streamed, cacheable."""
        version = VERSIONS.get(request.query_params.get("version", "1.1"), "1.1")
        etag, last_modified = catalog_validators(db)
        etag = etag[:-1] + f'-{version}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
        if last_modified:
            headers["Last-Modified"] = last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
        if request.headers.get("if-none-match") == etag:
            return Response(content=b"", status_code=304, headers=headers)
        database = state.database
        base = state.settings.public_base_url

        def chunks() -> Iterator[str]:
            with database.session() as export_db:
                yield from stream_export(
                    export_db, version, ExportReport(), catalog_id=f"{base}/data.json"
                )

        return Stream(chunks(), media_type="application/json", headers=headers)


class ListingsApiController(Controller):
    path = "/api/v1/listings"

    @get("/", name="api_listings", sync_to_thread=True)
    def list(self, request: Request, db: DbSession) -> dict[str, Any]:
        """Search listings: {"items": [...], "total": N, "page": P, "facets": {...}}."""
        query = search_query_from(request)
        viewer = principal(request)
        page = services.search(db, query, viewer)
        return {
            "items": [_api_item(listing, page.divisions, viewer) for listing in page.listings],
            "total": page.total,
            "facets_sampled": page.facets_sampled,
            "page": query.page,
            "per_page": query.per_page,
            "facets": {
                name: [{"value": f.value, "count": f.count} for f in values]
                for name, values in page.facets.items()
            },
        }

    @get("/{identifier:path}", name="api_listing", sync_to_thread=True)
    def detail(self, request: Request, db: DbSession, identifier: FromPath[str]) -> dict[str, Any]:
        """One listing by its identifier (identifiers are often URLs)."""
        viewer = principal(request)
        listing = services.get_listing(db, identifier.lstrip("/"), viewer)
        _, divisions = services.division_maps(db)
        item = _api_item(listing, divisions, viewer)
        item["record"] = services.record_to_json(services.visible_record(listing, viewer))
        item["details"] = listing.details
        return item


def _visible_duplicate(db: DbSession, listing: Listing, viewer: Principal | None) -> Listing | None:
    """The older listing this one may duplicate, when the caller may see it."""
    if listing.duplicate_of_id is None:
        return None
    match = db.get(Listing, listing.duplicate_of_id)
    return match if match is not None and services.can_view(match, viewer) else None


def _api_item(
    listing: Listing, divisions: dict[int, Division], viewer: Principal | None
) -> dict[str, Any]:
    return {
        "id": listing.id,
        "identifier": listing.identifier,
        "title": listing.title,
        "kind": listing.kind,
        "division": services.division_label(listing, divisions),
        "publisher": listing.publisher_name,
        "access_level": listing.access_level,
        "status": listing.status,
        "modified": listing.modified_on.isoformat() if listing.modified_on else None,
        "completeness": listing.completeness,
        "url": f"/catalog/listings/{listing.id}",
    }


class HarvestAdminController(Controller):
    path = "/admin/harvest"
    guards = [admin]

    @get("/", name="harvest_sources", sync_to_thread=True)
    def sources(self, request: Request, db: DbSession) -> Template:
        return self._page(request, db, {}, {})

    def _page(
        self, request: Request, db: DbSession, values: dict, errors: dict, status_code: int = 200
    ) -> Template:
        sources = db.exec(select(HarvestSource).order_by(HarvestSource.name)).all()
        runs = db.exec(select(HarvestRun).order_by(col(HarvestRun.id).desc()).limit(20)).all()
        names = {s.id: s.name for s in sources}
        return render(
            request,
            "marketplace/admin/harvest.html",
            {
                "sources": sources,
                "runs": runs,
                "names": names,
                "values": values,
                "errors": errors,
                "divisions": accounts.list_divisions(db),
            },
            status_code=status_code,
        )

    @post(
        "/upload",
        name="harvest_upload",
        sync_to_thread=True,
        request_max_body_size=MAX_CATALOG_UPLOAD,
    )
    def upload(
        self,
        request: Request,
        db: DbSession,
        state: State,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template | Redirect:
        """Queue the harvest of an uploaded data.json file; the run page follows it."""
        user: Principal = principal(request)  # type: ignore[assignment]
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._page(
                request, db, {}, {"file": "Choose a data.json file to upload."}, status_code=422
            )
        content = upload.file.read()
        key = (str(data.get("key") or "").strip() or upload.filename)[:500]
        division = str(data.get("division") or "")
        return self._enqueue(request, db, state, user, key, division, upload=content)

    @post("/run", name="harvest_run", sync_to_thread=True)
    def run(
        self, request: Request, db: DbSession, state: State, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        """Queue the harvest of a catalog URL (fetched by the worker, never private addresses)."""
        user: Principal = principal(request)  # type: ignore[assignment]
        url = form_value(data, "url")[:1000]
        if not url.startswith(("http://", "https://")):
            errors = {"url": "Enter an http:// or https:// address."}
            return self._page(request, db, {"url": url}, errors, status_code=422)
        return self._enqueue(request, db, state, user, url, form_value(data, "division"), url=url)

    @post("/sources/{source_id:int}/run", name="harvest_source_run", sync_to_thread=True)
    def run_source(
        self, request: Request, db: DbSession, state: State, source_id: FromPath[int]
    ) -> Template | Redirect:
        """Harvest a registered URL source again (its vanished datasets are withdrawn)."""
        user: Principal = principal(request)  # type: ignore[assignment]
        source = db.get(HarvestSource, source_id)
        if source is None:
            raise NotFound
        if not source.url:
            flash(
                request, f"{source.name} was uploaded as a file: upload the new version.", "warning"
            )
            return redirect("/admin/harvest")
        division = db.get(Division, source.division_id) if source.division_id else None
        code = division.code if division else ""
        return self._enqueue(request, db, state, user, source.key, code, url=source.url)

    def _enqueue(
        self,
        request: Request,
        db: DbSession,
        state: State,
        user: Principal,
        key: str,
        division_code: str,
        *,
        upload: bytes | None = None,
        url: str | None = None,
    ) -> Redirect:
        """Register the run and hand it to a worker (harvests can take minutes)."""
        division = accounts.find_division(db, division_code) if division_code else None
        source = get_or_create_source(
            db, key, url=url, division_id=division.id if division else None
        )
        run = start_run(db, source)
        payload: dict[str, Any] = {
            "run_id": run.id,
            "user_id": user.id,
            "allow_private": not state.settings.is_production,
        }
        if upload is not None:
            folder = state.settings.upload_dir / "harvest"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{secrets.token_hex(16)}.json"
            path.write_bytes(upload)
            payload["path"] = str(path)
        else:
            payload["url"] = url
        job = jobs.enqueue(db, HARVEST_JOB, payload, user_id=user.id)
        run.job_id = job.id
        run.status = "queued"
        db.add(run)
        db.commit()
        flash(request, f"Harvest of {source.name} queued; this page follows its progress.", "info")
        return redirect(f"/admin/harvest/runs/{run.id}")

    @get("/runs/{run_id:int}", name="harvest_run_detail", sync_to_thread=True)
    def run_detail(self, request: Request, db: DbSession, run_id: FromPath[int]) -> Template:
        """A harvest run: its progress while it runs, its kept report afterwards."""
        run = db.get(HarvestRun, run_id)
        if run is None:
            raise NotFound
        job = db.get(Job, run.job_id) if run.job_id else None
        return render(
            request,
            "marketplace/admin/harvest_run.html",
            {"run": run, "job": job, "source": db.get(HarvestSource, run.source_id)},
        )

    @get("/validation", name="catalog_validation", sync_to_thread=True)
    def validation(self, request: Request, db: DbSession) -> Template:
        """Listings that the DCAT-US export leaves out, and why."""
        report = validation_report(db, "1.1")
        return render(request, "marketplace/admin/validation.html", {"report": report})
