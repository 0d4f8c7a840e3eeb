"""What `sam deploy --guided` will ask for template.yaml, read with the SAM CLI's own code.

Runs in the SAM CLI's environment (.tools/sam). Prints JSON: every template parameter guided mode
prompts for, those without a default (a person must type them), and the routes guided mode asks
"<Function> has no authentication. Is this okay?" about (its default answer N stops the deploy).

    .tools/sam/bin/python tools/guided_questions.py [template.yaml]
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samcli.commands._utils.template import get_template_parameters
from samcli.commands.deploy.auth_utils import auth_per_resource
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main(template: str) -> int:
    parameters = get_template_parameters(template_file=template)
    stacks, _ = SamLocalStackProvider.get_stacks(
        template, global_parameter_overrides={"AWS::Region": "us-east-1"}
    )
    report = {
        "parameters": sorted(parameters),
        "without_default": sorted(
            name for name, spec in parameters.items() if "Default" not in spec
        ),
        "unauthenticated": sorted(
            name for name, has_auth in auth_per_resource(stacks) if not has_auth
        ),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
