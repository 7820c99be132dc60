"""What a listing page and search need from a record: completeness and schema.org JSON-LD."""

from __future__ import annotations

import json
from typing import Any

from marketplace.dcat.fields import ACCESS_LEVELS, normalize_email
from marketplace.dcat.records import ChecklistItem, Completeness, DatasetRecord

# A description shorter than this rarely lets a reader decide whether the data is relevant.
MIN_DESCRIPTION = 100
MIN_KEYWORDS = 3

# Characters that could end a <script> element or start an HTML comment or entity inside it,
# plus the two JavaScript line terminators JSON allows raw.
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def completeness(record: DatasetRecord) -> Completeness:
    """Score how complete a listing's metadata is, with the checklist shown to the steward.

    Args:
        record: the listing.

    Returns:
        The checklist in display order, each item with its weight (weights sum to 100), and
        the score 0–100: the sum of the weights of the items done. Search uses the same score to
        break ties, so well-described listings come first.
    """
    restricted = record.access_level in ("restricted public", "non-public")
    has_download = any(d.download_url and d.media_type for d in record.distributions)
    items = (
        ChecklistItem("Title", bool(record.title.strip()), 10),
        ChecklistItem(
            f"Description of at least {MIN_DESCRIPTION} characters",
            len(record.description.strip()) >= MIN_DESCRIPTION,
            15,
        ),
        ChecklistItem(
            f"At least {MIN_KEYWORDS} keywords", len(record.keywords) >= MIN_KEYWORDS, 10
        ),
        ChecklistItem("Publisher", bool(record.publisher_name), 5),
        ChecklistItem(
            "Contact name and e-mail",
            bool(record.contact_name) and normalize_email(record.contact_email) is not None,
            10,
        ),
        ChecklistItem(
            "Access level (with rights when not public)",
            record.access_level in ACCESS_LEVELS and (not restricted or bool(record.rights)),
            10,
        ),
        ChecklistItem(
            "Bureau and program codes", bool(record.bureau_codes and record.program_codes), 5
        ),
        ChecklistItem("Date last modified", bool(record.modified), 5),
        ChecklistItem("A download with its media type", has_download, 10),
        ChecklistItem("License", bool(record.license), 5),
        ChecklistItem("Landing page", bool(record.landing_page), 5),
        ChecklistItem("Temporal coverage", bool(record.temporal), 3),
        ChecklistItem("Update frequency", bool(record.accrual_periodicity), 3),
        ChecklistItem("Spatial coverage", bool(record.spatial), 2),
        ChecklistItem("Theme", bool(record.themes), 2),
    )
    score = sum(item.weight for item in items if item.done)
    return Completeness(score=score, checklist=items)


def schema_org_dataset(record: DatasetRecord, url: str) -> dict[str, Any]:
    """The schema.org `Dataset` description of a listing page, for search engines.

    Args:
        record: the listing.
        url: the absolute URL of the listing page.

    Returns:
        A JSON-LD object; serialise it with `json_ld_script_text` before putting it in a page.
    """
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": url,
        "url": url,
        "name": record.title,
        "description": record.description or record.title,
        "identifier": record.identifier,
    }
    publisher: dict[str, Any] | None = None
    if record.publisher_name:
        publisher = {"@type": "Organization", "name": record.publisher_name}
        if record.publisher_parent_name:
            parent = {"@type": "Organization", "name": record.publisher_parent_name}
            publisher["parentOrganization"] = parent
        email = normalize_email(record.contact_email)
        if email:
            publisher["contactPoint"] = {
                "@type": "ContactPoint",
                "contactType": "data steward",
                "email": email,
                **({"name": record.contact_name} if record.contact_name else {}),
            }
    downloads = [
        {
            "@type": "DataDownload",
            "contentUrl": distribution.download_url or distribution.access_url,
            **({"encodingFormat": distribution.media_type} if distribution.media_type else {}),
            **({"name": distribution.title} if distribution.title else {}),
        }
        for distribution in record.distributions
        if distribution.download_url or distribution.access_url
    ]
    optional: dict[str, Any] = {
        "keywords": list(record.keywords) or None,
        # 1.1 allows a repeating duration in modified; schema.org wants a date.
        "dateModified": None
        if (record.modified or "R").startswith(("R", "P"))
        else record.modified,
        "datePublished": record.issued,
        "publisher": publisher,
        "creator": publisher,
        "license": record.license,
        "isAccessibleForFree": record.access_level == "public" if record.access_level else None,
        "conditionsOfAccess": record.rights,
        "spatialCoverage": record.spatial,
        "temporalCoverage": record.temporal,
        "inLanguage": list(record.language) or None,
        "sameAs": record.landing_page,
        "about": list(record.themes) or None,
        "distribution": downloads or None,
    }
    data.update((key, value) for key, value in optional.items() if value is not None)
    return data


def json_ld_script_text(obj: object) -> str:
    """Serialise JSON-LD for a `<script type="application/ld+json">` element, safely.

    `<`, `>` and `&` are written as \\u003c, \\u003e and \\u0026 (still the same JSON), so a title
    such as "</script><script>alert(1)</script>" cannot close the element or open another.
    Mark the result safe in the template only because of this escaping.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.translate(str.maketrans(_SCRIPT_ESCAPES))
