"""`make run`: the API on http://127.0.0.1:8000 backed by an embedded local AWS.

- Default: moto's server in this process on a free 127.0.0.1 port (DynamoDB, SES, KMS),
  with the table, key and sender created from the project's definitions.
- LOCAL_AWS=dynamodb-local: as the default, with DynamoDB served by DynamoDB Local.
- LOCAL_AWS=localstack: everything on LocalStack (no Docker).
  Both real servers run in private network namespaces, reachable only on 127.0.0.1, and
  are stopped with this program.
- AWS_ENDPOINT_URL already set (a server you run): resources are created there.
- LOCAL_AWS=real: the ambient AWS credentials and an already deployed stack are used as is.
"""
import argparse
import os
import signal
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def stage_environment(stage: str):
    from chalice.cli.factory import CLIFactory

    config = CLIFactory(str(PROJECT)).create_config_obj(chalice_stage_name=stage)
    return config, dict(config.environment_variables)


def _stop_like_ctrl_c(signum, frame):
    """`kill` (tests, CI) stops as cleanly as Ctrl-C, real servers included."""
    raise KeyboardInterrupt


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
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    servers = []
    try:
        if mode in ("embedded", "dynamodb-local"):
            embedded_aws.start_moto()
            print(f"Embedded local AWS (moto) on {os.environ['AWS_ENDPOINT_URL']}", flush=True)
        if mode == "dynamodb-local":
            from localdev import servers as real_servers

            servers.append(real_servers.start_dynamodb_local())
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = servers[-1].url
            print(f"DynamoDB Local on {servers[-1].url}", flush=True)
        elif mode == "localstack":
            from localdev import servers as real_servers

            servers.append(real_servers.start_localstack())
            os.environ["AWS_ENDPOINT_URL"] = servers[-1].url
            print(f"LocalStack on {servers[-1].url}", flush=True)
        if mode in ("endpoint", "localstack"):
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
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for real_server in servers:
            real_server.stop()


if __name__ == "__main__":
    main()
