"""Severities in one total order, so that a threshold is a single comparison.

ECR's basic scanning reports the `FindingSeverity` enum of the ECR API (INFORMATIONAL, LOW,
MEDIUM, HIGH, CRITICAL, UNDEFINED); enhanced findings carry Amazon Inspector's `Severity`
(INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL, UNTRIAGED), a free string in the ECR model.
https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanFinding.html
https://docs.aws.amazon.com/inspector/v2/APIReference/API_Finding.html
"""

from __future__ import annotations

# The ordered severities a threshold may name, lowest first.
THRESHOLDS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
# UNDEFINED (basic: the CVE source gave no priority, or one ECR did not recognize; see
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-troubleshooting.html) and
# UNTRIAGED (Inspector has not rated it yet) are not known to be harmless: they rank as HIGH, so the
# default gate blocks them (when fixable) and only a CRITICAL threshold lets them through.
UNRATED = ("UNDEFINED", "UNTRIAGED")
UNRATED_RANK = THRESHOLDS.index("HIGH")
# Every severity a report counts, in the order the outputs list them (highest first).
REPORTED = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED")


def normalize(severity: object) -> str:
    """The severity as reported, or UNDEFINED for anything ECR or Inspector did not document."""
    text = str(severity or "").upper()
    return text if text in REPORTED else "UNDEFINED"


def rank(severity: str) -> int:
    """Position in the order INFORMATIONAL < LOW < MEDIUM < HIGH (= UNDEFINED, UNTRIAGED) < CRITICAL."""
    return THRESHOLDS.index(severity) if severity in THRESHOLDS else UNRATED_RANK


def parse_threshold(value: str) -> str:
    """A `--threshold` value (any case) as a severity, or ValueError naming the allowed ones."""
    if value.upper() in THRESHOLDS:
        return value.upper()
    raise ValueError(f"is not a severity; allowed: {', '.join(THRESHOLDS)}")


def at_or_above(severity: str, threshold: str) -> bool:
    return rank(severity) >= rank(threshold)
