"""The stateful stack of a stage (`make infra STAGE=prod`): deploys infra/template.json as
`mfa-<stage>-stateful` (the table and its stream, the KMS key, the SES identity, the outbox's
dead-letter queue, the policy), then records what `chalice deploy` needs from its outputs in the
stage's environment in .chalice/config.json (STAGE_OUTPUTS). Commit that change: `chalice deploy`
reads OUTBOX_STREAM_ARN from it to wire the outbox Lambda to the stream (app.py).

    python -m infra.stateful --stage prod [--apns-arn ARN] [--fcm-arn ARN] [--no-sender-identity]

Runs with the operator's AWS credentials and region (boto3's usual settings; AWS_ENDPOINT_URL
points it at LocalStack). The push platform applications' ARNs default to the ones the stage
already has; the sender domain is MAIL_FROM's.
"""
import argparse
import json
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = PROJECT / "infra" / "template.json"
CONFIG = PROJECT / ".chalice" / "config.json"

# Stack output -> the stage's environment variable that carries it.
STAGE_OUTPUTS = {
    "TableStreamArn": "OUTBOX_STREAM_ARN",
    "OutboxDeadLetterQueueUrl": "OUTBOX_DEAD_LETTER_QUEUE_URL",
    "ApnsPlatformApplicationArn": "APNS_PLATFORM_APPLICATION_ARN",
    "FcmPlatformApplicationArn": "FCM_PLATFORM_APPLICATION_ARN",
}


class DeployError(RuntimeError):
    pass


def stack_name(stage: str) -> str:
    return f"mfa-{stage}-stateful"


def stage_environment(stage: str, config_path: Path = CONFIG) -> dict:
    stages = json.loads(config_path.read_text())["stages"]
    if stage not in stages:
        raise DeployError(f"no stage {stage!r} in {config_path} (stages: {', '.join(stages)})")
    return stages[stage]["environment_variables"]


def stack_outputs(cloudformation, stage: str) -> dict[str, str]:
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name(stage))["Stacks"][0]
    except cloudformation.exceptions.ClientError as error:
        raise DeployError(f"{stack_name(stage)} not found ({error}): run `make infra STAGE={stage}` first") from error
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def _parameters(stage: str, environment: dict, apns_arn: str | None, fcm_arn: str | None,
                sender_identity: bool) -> list[dict]:
    values = {
        "Stage": stage,
        "SenderDomain": environment["MAIL_FROM"].split("@")[1],
        "ApnsPlatformApplicationArn": apns_arn if apns_arn is not None
        else environment.get("APNS_PLATFORM_APPLICATION_ARN", ""),
        "FcmPlatformApplicationArn": fcm_arn if fcm_arn is not None
        else environment.get("FCM_PLATFORM_APPLICATION_ARN", ""),
        "ManageSenderIdentity": "true" if sender_identity else "false",
    }
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def deploy_stack(cloudformation, stage: str, parameters: list[dict]) -> None:
    """Create the stack, or update it; waits until it is done."""
    arguments = {"StackName": stack_name(stage), "TemplateBody": TEMPLATE.read_text(), "Parameters": parameters,
                 "Capabilities": ["CAPABILITY_IAM"]}
    try:
        cloudformation.describe_stacks(StackName=stack_name(stage))
    except cloudformation.exceptions.ClientError:
        cloudformation.create_stack(**arguments)
        waiter = "stack_create_complete"
    else:
        try:
            cloudformation.update_stack(**arguments)
        except cloudformation.exceptions.ClientError as error:
            if "No updates are to be performed" in str(error):
                return
            raise
        waiter = "stack_update_complete"
    cloudformation.get_waiter(waiter).wait(StackName=stack_name(stage), WaiterConfig={"Delay": 2, "MaxAttempts": 900})


def record_outputs(stage: str, outputs: dict[str, str], config_path: Path = CONFIG) -> dict[str, str]:
    """Write the stack's outputs into the stage's environment; the variables that changed."""
    config = json.loads(config_path.read_text())
    environment = config["stages"][stage]["environment_variables"]
    changed = {}
    for output, variable in STAGE_OUTPUTS.items():
        value = outputs.get(output, "")
        if value and environment.get(variable) != value:
            environment[variable] = changed[variable] = value
    if changed:
        config_path.write_text(json.dumps(config, indent=2) + "\n")
    return changed


def main(argv: list[str]) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m infra.stateful", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--apns-arn", help="SNS platform application for APNs (default: the stage's)")
    parser.add_argument("--fcm-arn", help="SNS platform application for FCM (default: the stage's)")
    parser.add_argument("--no-sender-identity", action="store_true",
                        help="the SES identity of MAIL_FROM's domain is managed elsewhere")
    options = parser.parse_args(argv)
    try:
        environment = stage_environment(options.stage)
        cloudformation = boto3.client("cloudformation")
        deploy_stack(cloudformation, options.stage, _parameters(options.stage, environment, options.apns_arn,
                                                                options.fcm_arn, not options.no_sender_identity))
        changed = record_outputs(options.stage, stack_outputs(cloudformation, options.stage))
    except DeployError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{stack_name(options.stage)}: up to date")
    for variable, value in changed.items():
        print(f"  .chalice/config.json {options.stage}: {variable}={value}")
    if changed:
        print("Commit .chalice/config.json, then: chalice deploy --stage "
              f"{options.stage} && python -m infra.finish_deploy --stage {options.stage}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
