"""The Lambda policy lives once, in infra/template.json (ServicePolicy). Chalice needs it as a
plain policy file per stage (`autogen_policy: false`); this writes .chalice/policy-<stage>.json
from the template, with the stage's table, key alias and sender domain filled in.

    python -m infra.policies          write the files
    python -m infra.policies --check  exit 1 if a committed file differs (a test runs this)
"""
import json
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = PROJECT / "infra" / "template.json"
CHALICE = PROJECT / ".chalice"


def _resolve(node, values: dict):
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            text = node["Fn::Sub"]
            for name, value in values.items():
                text = text.replace("${" + name + "}", value)
            if "${" in text:
                raise ValueError(f"unresolved substitution in {text}")
            return text
        return {k: _resolve(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, values) for v in node]
    return node


def stage_policies() -> dict[str, dict]:
    template = json.loads(TEMPLATE.read_text())
    document = template["Resources"]["ServicePolicy"]["Properties"]["PolicyDocument"]
    config = json.loads((CHALICE / "config.json").read_text())
    policies = {}
    for stage, settings in config["stages"].items():
        sender = settings["environment_variables"]["MAIL_FROM"]
        policies[settings["iam_policy_file"]] = _resolve(document, {"Stage": stage, "SenderDomain": sender.split("@")[1]})
    return policies


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
    if stale:
        print("out of date with infra/template.json: " + ", ".join(stale) + " (run python -m infra.policies)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
