"""A cold start as Lambda pays it: a new Python process imports the app and serves its first
request (an API Gateway proxy event handed to the app, as the Lambda runtime does), timed
from the moment the process was started. The same for a bare Chalice app whose one route
reads one DynamoDB item, against the same moto server.

    python bench/cold_start.py child app|bare SPAWNED_AT   (what the bench runs in each process)
"""
import json
import sys
import time

BARE_APP = '''
from chalice import Chalice

app = Chalice(app_name="bare")


@app.route("/v1/login", methods=["POST"])
def login():
    import os

    import boto3

    item = boto3.client("dynamodb").get_item(TableName=os.environ["TABLE_NAME"],
                                             Key={"PK": {"S": "bare"}, "SK": {"S": "bare"}})
    return {"found": "Item" in item}
'''


class LambdaContext:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 1024, "bench-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 15000


def login_event(body: dict, origin: str) -> dict:
    headers = {"Content-Type": "application/json", "Origin": origin, "X-Requested-With": "bench",
               "Host": "localhost"}
    return {
        "resource": "/v1/login", "path": "/v1/login", "httpMethod": "POST", "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": "/v1/login", "httpMethod": "POST", "path": "/api/v1/login",
                           "stage": "api", "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"}},
        "body": json.dumps(body), "isBase64Encoded": False,
    }


def child(kind: str, spawned_at: float) -> None:
    """In the new process: import, serve one login, print the times since the spawn."""
    import os

    if kind == "bare":
        namespace: dict = {}
        exec(compile(BARE_APP, "bare_app.py", "exec"), namespace)
        app = namespace["app"]
    else:
        from app import app
    imported = time.time()
    body = json.loads(os.environ["BENCH_LOGIN"])
    response = app(login_event(body, os.environ["BENCH_ORIGIN"]), LambdaContext())
    served = time.time()
    if response["statusCode"] != 200:
        raise SystemExit(f"{kind}: first request answered {response['statusCode']}: {response.get('body')}")
    print(json.dumps({"import": imported - spawned_at, "first_request": served - spawned_at}))


def measure(repetitions: int, env: dict, project) -> dict[str, list[dict]]:
    """Alternating app and bare processes, `repetitions` each: their times."""
    import subprocess

    times: dict[str, list[dict]] = {"app": [], "bare": []}
    for _ in range(repetitions):
        for kind in ("bare", "app"):
            spawned_at = time.time()
            finished = subprocess.run([sys.executable, __file__, "child", kind, repr(spawned_at)], cwd=project,
                                      env=env, capture_output=True, text=True, check=True)
            times[kind].append(json.loads(finished.stdout.strip().splitlines()[-1]))
    return times


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    sys.path.insert(0, ".")
    child(sys.argv[2], float(sys.argv[3]))
