"""What `chalice deploy` cannot set, applied to the stage it has just deployed; run after every
`chalice deploy --stage X` (idempotent):

    chalice deploy --stage prod && python -m infra.finish_deploy --stage prod

- The outbox Lambda's stream mapping: only INSERTs of outbox notices reach it (OUTBOX_FILTER),
  retried with bisecting for the stream's 24 hours, then sent to the stateful stack's dead-letter
  queue (on-failure destination) rather than dropped.
- API Gateway stage throttling (the per-stage limits of infra/app.json's Throttling mapping) and
  API Gateway's own errors in the API's error shape (its GatewayResponse resources), then a new
  deployment of the stage so they take effect.

`make package` sets the same through infra/app.json; docs/runbook.md says why stage throttling.
Reads the stage's resources from .chalice/deployed/<stage>.json and the stateful stack's outputs,
with the operator's AWS credentials and region (AWS_ENDPOINT_URL points it at LocalStack).
"""
import argparse
import json
import sys
from pathlib import Path

from infra import stateful

PROJECT = Path(__file__).resolve().parent.parent
APP_TEMPLATE = PROJECT / "infra" / "app.json"
DEPLOYED = PROJECT / ".chalice" / "deployed"

OUTBOX_FUNCTION = "outbox_delivery"
# As in infra/app.json's stream event: a notice SES keeps refusing is retried for the stream's
# 24 hours, its batch halved around it, and then goes to the dead-letter queue.
OUTBOX_RETRIES = {"MaximumRetryAttempts": 185, "MaximumRecordAgeInSeconds": 86400, "BisectBatchOnFunctionError": True}


def outbox_filter() -> dict:
    """Lambda's FilterCriteria for the outbox stream, as infra/app.json has it: new outbox items
    only (keys OUTBOX#<id> / OUTBOX; chalicelib/store/keys.py), so the Lambda does not run for
    every session or counter write."""
    events = json.loads(APP_TEMPLATE.read_text())["Resources"]["OutboxDelivery"]["Properties"]["Events"]
    return events["OutboxDeliveryDynamodbEventSource"]["Properties"]["FilterCriteria"]


def stage_throttling(stage: str) -> dict[str, int]:
    mapping = json.loads(APP_TEMPLATE.read_text())["Mappings"]["Throttling"]
    if stage not in mapping:
        raise stateful.DeployError(f"no request limits for stage {stage!r} in infra/app.json (Mappings.Throttling)")
    return mapping[stage]


def gateway_responses() -> list[dict]:
    """API Gateway's own answers (unknown path, throttled, other 4xx/5xx) in the API's error shape."""
    resources = json.loads(APP_TEMPLATE.read_text())["Resources"].values()
    return [resource["Properties"] for resource in resources
            if resource.get("Type") == "AWS::ApiGateway::GatewayResponse"]


def deployed_resources(stage: str, deployed_dir: Path = DEPLOYED) -> dict[str, dict]:
    path = deployed_dir / f"{stage}.json"
    if not path.exists():
        raise stateful.DeployError(f"{path} not found: run `chalice deploy --stage {stage}` first")
    return {resource["name"]: resource for resource in json.loads(path.read_text())["resources"]}


def finish_outbox(lambda_client, stage: str, resources: dict, outputs: dict, environment: dict) -> str:
    mapping = resources.get(f"{OUTBOX_FUNCTION}-dynamodb-event-source")
    if mapping is None or not environment.get("OUTBOX_STREAM_ARN"):
        raise stateful.DeployError(
            f"the outbox Lambda of {stage} is not mapped to the table's stream: OUTBOX_STREAM_ARN is missing from the "
            f"stage's environment. Run `make infra STAGE={stage}`, then `chalice deploy --stage {stage}` again")
    if mapping["stream_arn"] != outputs["TableStreamArn"]:
        raise stateful.DeployError(
            f"the outbox Lambda reads {mapping['stream_arn']}, the table's stream is {outputs['TableStreamArn']}: run "
            f"`make infra STAGE={stage}` (it records the stream), then `chalice deploy --stage {stage}` again")
    if environment.get("OUTBOX_DEAD_LETTER_QUEUE_URL") != outputs["OutboxDeadLetterQueueUrl"]:
        raise stateful.DeployError(f"OUTBOX_DEAD_LETTER_QUEUE_URL of {stage} is not the stack's queue: run "
                                   f"`make infra STAGE={stage}`, then `chalice deploy --stage {stage}` again")
    others = [other["UUID"] for other in
              lambda_client.list_event_source_mappings(FunctionName=mapping["lambda_arn"])["EventSourceMappings"]
              if other["UUID"] != mapping["event_uuid"] and other.get("State") != "Deleting"]
    if others:
        # A deploy without .chalice/deployed/<stage>.json maps the stream again; two mappings
        # would each deliver every notice.
        raise stateful.DeployError(
            f"the outbox Lambda of {stage} has other stream mappings than Chalice's ({', '.join(others)}): delete "
            "them (aws lambda delete-event-source-mapping --uuid ...), then run this again")
    lambda_client.update_event_source_mapping(
        UUID=mapping["event_uuid"], **OUTBOX_RETRIES, FilterCriteria=outbox_filter(),
        DestinationConfig={"OnFailure": {"Destination": outputs["OutboxDeadLetterQueueArn"]}})
    return mapping["event_uuid"]


def finish_api(apigateway, stage: str, resources: dict, api_stage: str) -> str:
    rest_api_id = resources["rest_api"]["rest_api_id"]
    for response in gateway_responses():
        arguments = {"restApiId": rest_api_id, "responseType": response["ResponseType"],
                     "responseTemplates": response["ResponseTemplates"]}
        if "StatusCode" in response:
            arguments["statusCode"] = response["StatusCode"]
        apigateway.put_gateway_response(**arguments)
    # Gateway responses take effect with the stage's next deployment.
    apigateway.create_deployment(restApiId=rest_api_id, stageName=api_stage,
                                 description="infra.finish_deploy: gateway responses")
    limits = stage_throttling(stage)
    apigateway.update_stage(restApiId=rest_api_id, stageName=api_stage, patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(limits["RateLimit"])},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(limits["BurstLimit"])},
    ])
    return rest_api_id


def api_gateway_stage(stage: str, config_path: Path = stateful.CONFIG) -> str:
    config = json.loads(config_path.read_text())
    return config["stages"][stage].get("api_gateway_stage", config.get("api_gateway_stage", "api"))


def main(argv: list[str]) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m infra.finish_deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    options = parser.parse_args(argv)
    stage = options.stage
    try:
        environment = stateful.stage_environment(stage)
        resources = deployed_resources(stage)
        outputs = stateful.stack_outputs(boto3.client("cloudformation"), stage)
        mapping = finish_outbox(boto3.client("lambda"), stage, resources, outputs, environment)
        limits = stage_throttling(stage)
        rest_api_id = finish_api(boto3.client("apigateway"), stage, resources, api_gateway_stage(stage))
    except stateful.DeployError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{stage}: outbox stream mapping {mapping}: new notices only, "
          f"dead letters to {outputs['OutboxDeadLetterQueueArn']}")
    print(f"{stage}: API {rest_api_id} throttled at {limits['RateLimit']} requests/s (burst {limits['BurstLimit']}), "
          "gateway errors in the API's shape")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
