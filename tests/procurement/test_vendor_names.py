"""Tests for vendor name normalisation, variants and rare-token-weighted similarity."""

from __future__ import annotations

import pytest

from procurement.vendor_names import (
    TokenWeights,
    name_tokens,
    normalise_vendor_name,
    vendor_name_variants,
    weighted_similarity,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Clarivate Analytics (US), L.L.C.", "CLARIVATE ANALYTICS"),
        ("CLARIVATE ANALYTICS US LLC", "CLARIVATE ANALYTICS"),
        ("Elsevier B.V.", "ELSEVIER"),
        ("SAS INSTITUTE INC.", "SAS INSTITUTE"),
        ("Ims Health Incorporated", "IMS HEALTH"),
        ("IQVIA, INC.", "IQVIA"),
        ("The Johnson & Johnson Co.", "JOHNSON AND JOHNSON"),
        ("Johnson and Johnson Company", "JOHNSON AND JOHNSON"),
        ("Moody's Analytics, Inc.", "MOODYS ANALYTICS"),
        ("Acme Widgets Corp d/b/a Roadrunner Supply", "ACME WIDGETS"),
        ("ACME WIDGETS DBA ROADRUNNER", "ACME WIDGETS"),
        ("IQVIA INC (FORMERLY QUINTILESIMS)", "IQVIA"),
        ("Deloitte Consulting L.L.P.", "DELOITTE CONSULTING"),
        ("Siemens Healthcare GmbH", "SIEMENS HEALTHCARE"),
        ("Philips N.V.", "PHILIPS"),
        ("Nestle S.A.", "NESTLE"),
        ("Smith & Jones, PLLC", "SMITH AND JONES"),
        ("Müller Analytik AG", "MULLER ANALYTIK"),
        ("  optum ,  inc  ", "OPTUM"),
        ("Limited", "LIMITED"),  # never strips the last word
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_vendor_name(raw: str | None, expected: str) -> None:
    assert normalise_vendor_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("IQVIA INC (FORMERLY QUINTILESIMS)", ("IQVIA", "QUINTILESIMS")),
        ("IQVIA INC (F/K/A QUINTILES IMS HOLDINGS INC)", ("IQVIA", "QUINTILES IMS HOLDINGS")),
        ("Acme Widgets Corp d/b/a Roadrunner Supply", ("ACME WIDGETS", "ROADRUNNER SUPPLY")),
        ("ACME WIDGETS D.B.A. ROADRUNNER", ("ACME WIDGETS", "ROADRUNNER")),
        ("ACME WIDGETS DOING BUSINESS AS ROADRUNNER", ("ACME WIDGETS", "ROADRUNNER")),
        ("CLARIVATE ANALYTICS (US) LLC", ("CLARIVATE ANALYTICS",)),  # "(US)" adds nothing
        ("ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE (ESRI)", (
            "ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE", "ESRI")),
        ("Optum Inc", ("OPTUM",)),
        ("", ()),
    ],
)  # fmt: skip
def test_vendor_name_variants(raw: str, expected: tuple[str, ...]) -> None:
    assert vendor_name_variants(raw) == expected


def test_variants_are_deterministic_and_start_with_the_normalised_name() -> None:
    name = "Big Data Co (formerly Small Data Inc) d/b/a BDC"
    assert vendor_name_variants(name) == vendor_name_variants(name)
    assert vendor_name_variants(name)[0] == normalise_vendor_name(name)


def test_name_tokens_drop_joining_words() -> None:
    assert name_tokens("JOHNSON AND JOHNSON") == ("JOHNSON", "JOHNSON")
    assert name_tokens("BANK OF THE WEST") == ("BANK", "WEST")


NAMES = [
    "ACME HEALTH SOLUTIONS",
    "ZENITH HEALTH SOLUTIONS",
    "NORTHSTAR HEALTH SOLUTIONS",
    "BLUE HEALTH SOLUTIONS",
    "CLARIVATE ANALYTICS",
    "OPTUMINSIGHT",
    "OPTUM",
    "ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE",
    "ESRI",
]
WEIGHTS = TokenWeights.from_documents(name_tokens(n) for n in NAMES)


def _similarity(a: str, b: str) -> float:
    return weighted_similarity(name_tokens(a), name_tokens(b), WEIGHTS.weight).score


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        # Shared common words alone do not make two vendors alike.
        ("ACME HEALTH SOLUTIONS", "ZENITH HEALTH SOLUTIONS", 0.0, 0.5),
        ("ACME HEALTH SOLUTIONS", "ACME HEALTH SOLUTIONS", 0.999, 1.0),
        # The rare word carries most of the weight.
        ("ACME HEALTH SOLUTIONS", "ACME", 0.7, 1.0),
        ("CLARIVATE ANALYTICS", "CLARIVATE ANALYTCS", 0.9, 1.0),  # typo
        ("OPTUMINSIGHT", "OPTUM", 0.85, 1.0),  # one name starts the other
        ("OPTUM INSIGHT", "OPTUMINSIGHT", 0.99, 1.0),  # joined words
        ("ESRI", "ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE", 0.99, 1.0),  # acronym
        ("CLARIVATE ANALYTICS", "OPTUM", 0.0, 0.0),
    ],
)
def test_weighted_similarity(a: str, b: str, low: float, high: float) -> None:
    assert low <= _similarity(a, b) <= high


def test_weighted_similarity_is_symmetric_and_explains_itself() -> None:
    forward = weighted_similarity(
        ("ESRI", "ARCGIS"),
        ("ENVIRONMENTAL", "SYSTEMS", "RESEARCH", "INSTITUTE", "ARCGIS"),
        WEIGHTS.weight,
    )
    backward = weighted_similarity(
        ("ENVIRONMENTAL", "SYSTEMS", "RESEARCH", "INSTITUTE", "ARCGIS"),
        ("ESRI", "ARCGIS"),
        WEIGHTS.weight,
    )
    assert forward.score == pytest.approx(backward.score)
    assert {m.how for m in forward.matches} == {"acronym", "exact"}
    assert forward.containment == pytest.approx(1.0)  # fmt: skip


def test_containment_covers_the_lighter_side() -> None:
    result = weighted_similarity(("HOSPITALVIEW",), ("PROVIDER", "HOSPITALVIEW"), lambda t: 1.0)
    assert result.containment == pytest.approx(1.0)
    assert result.left_covered == pytest.approx(1.0)
    assert result.right_covered == pytest.approx(0.5)
    assert result.score == pytest.approx(1 / 2**0.5)


def test_unseen_tokens_weigh_most() -> None:
    assert WEIGHTS.weight("NEVERSEEN") > WEIGHTS.weight("CLARIVATE") > WEIGHTS.weight("HEALTH")
