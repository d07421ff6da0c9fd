"""`make run`: the API on http://127.0.0.1:8000 backed by an embedded local AWS.

- Default: moto's server in this process on a free 127.0.0.1 port (DynamoDB, SES, KMS),
  with the table, key and sender created from the project's definitions.
- AWS_ENDPOINT_URL already set (LocalStack, DynamoDB Local...): resources are created there.
- LOCAL_AWS=real: the ambient AWS credentials and an already deployed stack are used as is.
"""
import argparse
import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def stage_environment(stage: str):
    from chalice.cli.factory import CLIFactory

    config = CLIFactory(str(PROJECT)).create_config_obj(chalice_stage_name=stage)
    return config, dict(config.environment_variables)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()

    config, environment = stage_environment(args.stage)
    for name, value in environment.items():
        os.environ.setdefault(name, value)

    sys.path.insert(0, str(PROJECT))
    from localdev import embedded_aws

    mode = os.environ.get("LOCAL_AWS") or ("endpoint" if os.environ.get("AWS_ENDPOINT_URL") else "embedded")
    if mode == "embedded":
        embedded_aws.start_moto()
        print(f"Embedded local AWS (moto) on {os.environ['AWS_ENDPOINT_URL']}", flush=True)
    elif mode == "endpoint":
        for name, value in embedded_aws.LOCAL_CREDENTIALS.items():
            os.environ.setdefault(name, value)
    if mode != "real":
        embedded_aws.provision(os.environ["TABLE_NAME"], os.environ["KMS_KEY_ID"], os.environ["MAIL_FROM"])

    from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

    from app import app

    class Handler(ChaliceRequestHandler):
        # Without this, keep-alive clients wait for Nagle's 40 ms delayed ACK on each request.
        disable_nagle_algorithm = True

    # As `chalice local` does: each server thread gets its own current_request.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    server = LocalDevServer(app, config, args.host, args.port, handler_cls=Handler)
    base = f"http://{args.host}:{args.port}"
    print(f"API on {base}  (OpenAPI: {base}/openapi.json)", flush=True)
    if args.stage == "local":
        print(f"Dev mailbox: {base}/_dev/mailbox", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
