"""What a million successful logins (password step + TOTP verify) cost on AWS, from what the
bench measured: the requests, the Lambda time, the request units of the items actually
written and read, the KMS and SES calls."""
from dataclasses import dataclass

PRICES_AS_OF = "us-east-1 list prices as of June 2025"
# USD per unit.
PRICES = {
    "api_request": 3.50 / 1e6,        # API Gateway REST API, first 333 million requests a month
    "lambda_request": 0.20 / 1e6,     # Lambda requests
    "lambda_gb_second": 0.0000166667,  # Lambda duration, x86
    "wru": 0.625 / 1e6,               # DynamoDB on-demand write request unit (standard table class)
    "rru": 0.125 / 1e6,               # DynamoDB on-demand read request unit
    "kms_request": 0.03 / 1e4,        # KMS symmetric requests
    "ses_email": 0.10 / 1e3,          # SES outbound email
}
PRICE_LABELS = {
    "api_request": "$3.50 per million REST requests", "lambda_request": "$0.20 per million requests",
    "lambda_gb_second": "$0.0000166667 per GB-s", "wru": "$0.625 per million WRU",
    "rru": "$0.125 per million RRU", "kms_request": "$0.03 per 10,000 requests",
    "ses_email": "$0.10 per 1,000 emails",
}


@dataclass
class LoginUsage:
    """One successful login: its requests (both steps) and what they used."""
    requests: int
    seconds: float        # Lambda duration of both steps together
    memory_mb: int
    wru: float
    rru: float
    kms: int
    ses: int


def million_logins(usage: LoginUsage) -> list[tuple[str, str, float, str]]:
    """(item, quantity for a million logins, USD, price) rows, the total last."""
    n = 1_000_000
    gb_seconds = usage.seconds * usage.memory_mb / 1024 * n
    rows = [
        ("API Gateway", f"{usage.requests * n / 1e6:g}M requests", usage.requests * n * PRICES["api_request"],
         PRICE_LABELS["api_request"]),
        ("Lambda requests", f"{usage.requests * n / 1e6:g}M", usage.requests * n * PRICES["lambda_request"],
         PRICE_LABELS["lambda_request"]),
        ("Lambda duration", f"{gb_seconds:,.0f} GB-s at {usage.memory_mb} MB", gb_seconds * PRICES["lambda_gb_second"],
         PRICE_LABELS["lambda_gb_second"]),
        ("DynamoDB writes", f"{usage.wru * n / 1e6:g}M WRU", usage.wru * n * PRICES["wru"], PRICE_LABELS["wru"]),
        ("DynamoDB reads", f"{usage.rru * n / 1e6:g}M RRU", usage.rru * n * PRICES["rru"], PRICE_LABELS["rru"]),
        ("KMS", f"{usage.kms * n / 1e6:g}M requests", usage.kms * n * PRICES["kms_request"],
         PRICE_LABELS["kms_request"]),
        ("SES", f"{usage.ses * n / 1e6:g}M emails", usage.ses * n * PRICES["ses_email"], PRICE_LABELS["ses_email"]),
    ]
    rows.append(("total", "", sum(row[2] for row in rows), PRICES_AS_OF))
    return rows
