"""The Lambda functions' IAM policies, one per function and stage, least privilege for what
each function's code calls (tests/test_iam.py records those calls and compares), on the stage's
own table, key, sender identity and push platform applications.

Chalice takes them as plain files (`autogen_policy: false`): the API handler's is the stage's
`iam_policy_file` (.chalice/policy-<stage>.json), every other function's is
`stages.<stage>.lambda_functions.<function>.iam_policy_file` (.chalice/policy-<stage>-<function>.json),
so that no function gets another's rights by default. This writes them from FUNCTIONS below.

    python -m infra.policies          write the files
    python -m infra.policies --check  exit 1 if a committed file or config.json differs (a test runs this)

Push platform applications are created outside CloudFormation; their names are the stage's:
mfa-<stage>-apns (APNs, also its sandbox) and mfa-<stage>-gcm (FCM), as the local stack makes them.
"""
import json
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CHALICE = PROJECT / ".chalice"
API_HANDLER = "api_handler"

_TABLE = "arn:aws:dynamodb:*:*:table/mfa-${Stage}"
_LOGS = {
    "Sid": "Logs",
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": ["arn:aws:logs:*:*:log-group:/aws/lambda/${FunctionName}",
                 "arn:aws:logs:*:*:log-group:/aws/lambda/${FunctionName}:log-stream:*"],
}
_EMAIL = {
    "Sid": "Email",
    "Effect": "Allow",
    "Action": ["ses:SendRawEmail"],
    "Resource": "arn:aws:ses:*:*:identity/${SenderDomain}",
}

_NOTICES = {
    # Only the outbox's items: the notice it claims, sends and removes, nothing of the accounts.
    "Sid": "Notices",
    "Effect": "Allow",
    "Action": ["dynamodb:UpdateItem", "dynamodb:DeleteItem"],
    "Resource": _TABLE,
    "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["OUTBOX#*"]}},
}
# A notice's link is sealed under a data key (chalicelib/ledger/secrets.py): the function reads
# the wrapped data key once per container and unwraps it with the stage's key.
_DATA_KEYS = {
    "Sid": "DataKeys",
    "Effect": "Allow",
    "Action": ["dynamodb:GetItem"],
    "Resource": _TABLE,
    "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DATAKEY"]}},
}
_UNWRAP_DATA_KEY = {
    "Sid": "SecretsKey",
    "Effect": "Allow",
    "Action": ["kms:Decrypt"],
    "Resource": "arn:aws:kms:*:*:key/*",
    "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/mfa-${Stage}"}},
}

# Statements that Lambda uses with the function's role, not its code: tests/test_iam.py does
# not look for them among the recorded calls (it checks each is where it belongs).
RUNTIME_STATEMENTS = {
    "Logs": "every function's log group (the Lambda runtime writes it)",
    "TableStream": "the event source mapping reads the table's stream with the consumer's role",
    "DeadLetters": "the event source mapping sends a batch it gave up on to the dead-letter queue",
}

FUNCTIONS = {
    API_HANDLER: [
        {
            "Sid": "Table",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                       "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem",
                       "dynamodb:ConditionCheckItem"],
            "Resource": [_TABLE, _TABLE + "/index/GSI1"],
        },
        {
            "Sid": "SecretsKey",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "arn:aws:kms:*:*:key/*",
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/mfa-${Stage}"}},
        },
        {
            "Sid": "PushApplications",
            "Effect": "Allow",
            "Action": ["sns:CreatePlatformEndpoint"],
            "Resource": ["arn:aws:sns:*:*:app/APNS/mfa-${Stage}-apns",
                         "arn:aws:sns:*:*:app/APNS_SANDBOX/mfa-${Stage}-apns",
                         "arn:aws:sns:*:*:app/GCM/mfa-${Stage}-gcm"],
        },
        {
            "Sid": "PushEndpoints",
            "Effect": "Allow",
            "Action": ["sns:SetEndpointAttributes", "sns:DeleteEndpoint", "sns:Publish"],
            "Resource": ["arn:aws:sns:*:*:endpoint/APNS/mfa-${Stage}-apns/*",
                         "arn:aws:sns:*:*:endpoint/APNS_SANDBOX/mfa-${Stage}-apns/*",
                         "arn:aws:sns:*:*:endpoint/GCM/mfa-${Stage}-gcm/*"],
        },
        {
            # Texts go to phone numbers, which are not ARNs: no topic or endpoint is allowed here.
            "Sid": "Sms",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "NotResource": "arn:aws:sns:*:*:*",
        },
        # Sent at once, not through the outbox: sign-up and email change links, password
        # resets, email codes.
        _EMAIL,
        _LOGS,
    ],
    "outbox_delivery": [_NOTICES, _DATA_KEYS, _UNWRAP_DATA_KEY, _EMAIL,
        {
            "Sid": "TableStream",
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                       "dynamodb:ListStreams"],
            "Resource": _TABLE + "/stream/*",
        },
        {
            # The event source mapping's on-failure destination: a batch it gave up on.
            "Sid": "DeadLetters",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": "arn:aws:sqs:*:*:mfa-${Stage}-outbox-dead-letters",
        },
        _LOGS,
    ],
    "outbox_sweeper": [
        {
            # The pending notices, listed by their outbox partitions of the index.
            "Sid": "PendingNotices",
            "Effect": "Allow",
            "Action": ["dynamodb:Query"],
            "Resource": _TABLE + "/index/GSI1",
        },
        _NOTICES, _DATA_KEYS, _UNWRAP_DATA_KEY, _EMAIL, _LOGS,
    ],
}

# With OUTBOX_DELIVERY=inline (the local stage) the API sends the notices itself, right after
# the write: it also needs what the outbox consumer's code calls.
INLINE_DELIVERY = "outbox_delivery"


def function_name(stage: str, function: str) -> str:
    """The deployed function's name, as `chalice deploy` names it (infra/app.json gives the
    packaged template the same names)."""
    return f"mfa-service-{stage}" if function == API_HANDLER else f"mfa-service-{stage}-{function}"


def policy_file(stage: str, function: str) -> str:
    return f"policy-{stage}.json" if function == API_HANDLER else f"policy-{stage}-{function}.json"


def _resolve(node, values: dict):
    if isinstance(node, dict):
        return {k: _resolve(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, values) for v in node]
    if isinstance(node, str):
        for name, value in values.items():
            node = node.replace("${" + name + "}", value)
        if "${" in node:
            raise ValueError(f"unresolved substitution in {node}")
    return node


def _statements(function: str, environment: dict) -> list[dict]:
    statements = [s for s in FUNCTIONS[function] if s["Sid"] != "Logs"]
    if function == API_HANDLER and environment.get("OUTBOX_DELIVERY") == "inline":
        granted = {action for s in statements for action in s["Action"]}
        statements += [s for s in FUNCTIONS[INLINE_DELIVERY]
                       if s["Sid"] not in RUNTIME_STATEMENTS and not set(s["Action"]) <= granted]
    return [*statements, _LOGS]


def stage_policies() -> dict[str, dict]:
    """{file name under .chalice/: policy document} for every stage and function."""
    config = json.loads((CHALICE / "config.json").read_text())
    policies = {}
    for stage, settings in config["stages"].items():
        environment = settings["environment_variables"]
        for function in FUNCTIONS:
            values = {"Stage": stage, "SenderDomain": environment["MAIL_FROM"].split("@")[1],
                      "FunctionName": function_name(stage, function)}
            policies[policy_file(stage, function)] = {
                "Version": "2012-10-17", "Statement": _resolve(_statements(function, environment), values)}
    return policies


def config_problems() -> list[str]:
    """Where .chalice/config.json does not give each function its own policy file."""
    config = json.loads((CHALICE / "config.json").read_text())
    problems = []
    for stage, settings in config["stages"].items():
        if settings.get("iam_policy_file") != policy_file(stage, API_HANDLER):
            problems.append(f"stages.{stage}.iam_policy_file should be {policy_file(stage, API_HANDLER)}")
        functions = settings.get("lambda_functions", {})
        for function in FUNCTIONS:
            if function != API_HANDLER and functions.get(function, {}).get("iam_policy_file") != policy_file(stage, function):
                problems.append(f"stages.{stage}.lambda_functions.{function}.iam_policy_file should be "
                                f"{policy_file(stage, function)}")
    return problems


def main(check: bool) -> int:
    stale = []
    for name, policy in stage_policies().items():
        text = json.dumps(policy, indent=2) + "\n"
        path = CHALICE / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    problems = config_problems()
    for problem in problems:
        print(problem)
    if stale:
        print("out of date with infra/policies.py: " + ", ".join(stale) + " (run python -m infra.policies)")
    return 1 if stale or problems else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
