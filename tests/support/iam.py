"""IAM as the code uses it, for tests/test_iam.py.

- Recorder: every call the app's own AWS clients (chalicelib/aws.py) make, as the IAM
  authorisations it needs (action, resource ARN, condition keys), by Lambda function: the
  function whose handler is on the call stack (app.outbox_delivery...), else the API handler.
- authorisations(): a botocore call as IAM sees it. A transaction needs each item's action
  (DynamoDB has no TransactWriteItems action); a phone number is not an ARN.
- allowed(): an evaluator of the Allow statements our policy files use: Action, Resource or
  NotResource with wildcards, ForAnyValue:StringEquals and ForAllValues:StringLike conditions.
"""
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase

API_HANDLER = "api_handler"
# moto's region and account (the resources' ARNs the calls name).
REGION, ACCOUNT = "us-east-1", "123456789012"

_TRANSACTION_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                        "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
# Calls that need no permission.
_UNAUTHORISED = {("sts", "GetCallerIdentity")}
_PREFIXES = {"sesv2": "ses", "dynamodbstreams": "dynamodb"}


@dataclass(frozen=True)
class Need:
    """One authorisation a call needs."""
    function: str
    action: str
    resource: str
    context: tuple = ()     # ((condition key, (values...)), ...)
    call: str = ""          # "dynamodb.TransactWriteItems", for messages

    def context_dict(self) -> dict[str, tuple]:
        return dict(self.context)


def _table(params: dict) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{params['TableName']}"
    return arn + f"/index/{params['IndexName']}" if params.get("IndexName") else arn


def _partition_values(params: dict) -> tuple[str, ...] | None:
    """dynamodb:LeadingKeys: the partition key value(s) an item call or query names."""
    item = params.get("Key") or params.get("Item")
    if item is not None:
        return tuple(value.get("S", str(value)) for name, value in item.items() if name == "PK" or name.endswith("PK"))[:1]
    condition = params.get("KeyConditionExpression")
    if condition:
        placeholder = condition.split("=")[1].split()[0].strip()
        value = params.get("ExpressionAttributeValues", {}).get(placeholder, {})
        return (value.get("S", str(value)),)
    return None


def _dynamodb(action: str, params: dict) -> tuple[str, str, tuple]:
    leading = _partition_values(params)
    return f"dynamodb:{action}", _table(params), ((("dynamodb:LeadingKeys", leading),) if leading is not None else ())


def authorisations(service: str, operation: str, params: dict, key_alias: str) -> list[tuple[str, str, tuple]]:
    """[(action, resource, context)] one call needs; key_alias is the stage's KMS key alias,
    the key a Decrypt without KeyId uses (the service has no other)."""
    if (service, operation) in _UNAUTHORISED:
        return []
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            parts = [next(iter(item.items())) for item in params["TransactItems"]]
            return [_dynamodb(_TRANSACTION_ACTIONS[kind], body) for kind, body in parts]
        if operation == "BatchGetItem":
            return [_dynamodb("BatchGetItem", {"TableName": table, "Key": key})
                    for table, asked in params["RequestItems"].items() for key in asked["Keys"]]
        if operation == "BatchWriteItem":
            return [_dynamodb("BatchWriteItem", {"TableName": table, **(request.get("PutRequest") or request["DeleteRequest"])})
                    for table, requests in params["RequestItems"].items() for request in requests]
        return [_dynamodb(operation, params)]
    if service == "kms":
        alias = params.get("KeyId") or key_alias
        key = alias.split(":key/")[-1] if ":key/" in alias else "from-alias"
        return [(f"kms:{operation}", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}",
                 (("kms:ResourceAliases", (alias,)),) if alias.startswith("alias/") else ())]
    if service in ("ses", "sesv2"):
        sender = params.get("Source") or params.get("FromEmailAddress", "")
        return [(f"ses:{operation}", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender.split('@')[-1]}", ())]
    if service == "sns":
        target = (params.get("PlatformApplicationArn") or params.get("EndpointArn") or params.get("TargetArn")
                  or params.get("TopicArn") or params.get("PhoneNumber") or "*")
        return [(f"sns:{operation}", target, ())]
    if service == "sqs":
        name = params.get("QueueUrl", "*").rstrip("/").split("/")[-1]
        return [(f"sqs:{operation}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", ())]
    return [(f"{_PREFIXES.get(service, service)}:{operation}", "*", ())]


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, context: dict[str, tuple]) -> bool:
    for operator, keys in condition.items():
        for key, expected in keys.items():
            expected, values = _listed(expected), context.get(key)
            if operator == "ForAnyValue:StringEquals":
                if not values or not any(v in expected for v in values):
                    return False
            elif operator == "ForAllValues:StringLike":
                # As IAM: true for a request without the key; every value must match.
                if values and not all(any(fnmatchcase(v, p) for p in expected) for v in values):
                    return False
            else:
                raise ValueError(f"condition operator {operator} not evaluated here: add it to tests/support/iam.py")
    return True


def allowing(policy: dict, need: Need) -> list[dict]:
    """The policy's statements that allow the need."""
    found = []
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        if not any(fnmatchcase(need.action.lower(), a.lower()) for a in _listed(statement["Action"])):
            continue
        if "Resource" in statement:
            matched = any(fnmatchcase(need.resource, r) for r in _listed(statement["Resource"]))
        else:
            matched = not any(fnmatchcase(need.resource, r) for r in _listed(statement["NotResource"]))
        if matched and _condition_holds(statement.get("Condition", {}), need.context_dict()):
            found.append(statement)
    return found


def lambda_functions(app) -> set[str]:
    """The Lambda functions Chalice deploys for the app: the API handler and one per
    @app.lambda_function, @app.schedule, @app.on_dynamodb_record..."""
    return {API_HANDLER, *(f.name for f in app.pure_lambda_functions), *(s.name for s in app.event_sources)}


class Recorder:
    """Installed on chalicelib.aws.client: each client it makes records its calls as Needs."""

    def __init__(self, app, key_alias: str):
        self.needs: set[Need] = set()
        self.key_alias = key_alias
        self.functions = {API_HANDLER}
        self._handlers = {}
        for name in lambda_functions(app) - {API_HANDLER}:
            handler = app.handler_map[name]
            while not hasattr(handler, "__code__"):   # Chalice's wrappers around the function
                handler = getattr(handler, "func", None) or handler._original_func
            self._handlers[handler.__code__] = name
        self.functions |= set(self._handlers.values())

    def install(self, monkeypatch) -> "Recorder":
        from chalicelib import aws

        made = aws.client

        def client(service: str):
            instance = made(service)
            instance.meta.events.register("before-parameter-build", self._before_call, unique_id="iam-recorder")
            return instance

        client.cache_clear = made.cache_clear
        monkeypatch.setattr(aws, "client", client)
        return self

    def _function(self) -> str | None:
        """The function whose code makes the call: a handler on the stack, else the API if a
        request is being served; None for the tests' and ops commands' own calls."""
        from chalice.app import Chalice

        serving = False
        frame = sys._getframe(2)
        while frame is not None:
            name = self._handlers.get(frame.f_code)
            if name is not None:
                return name
            serving = serving or frame.f_code is Chalice.__call__.__code__
            frame = frame.f_back
        return API_HANDLER if serving else None

    def _before_call(self, model, params, **_):
        # before-parameter-build: the call's own parameters, before botocore serialises them.
        service = model.service_model.service_name
        function = self._function()
        if function is None:
            return
        for action, resource, context in authorisations(service, model.name, params, self.key_alias):
            self.needs.add(Need(function, action, resource, context, f"{service}.{model.name}"))

    def actions(self, function: str) -> set[str]:
        return {need.action for need in self.needs if need.function == function}
