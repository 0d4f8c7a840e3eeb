"""moto in server mode for the deploy gate, with one fix for a moto bug.

moto 5.2.x: updating an ``AWS::Lambda::Function`` whose ``Layers`` refer to a layer of the same
stack crashes (``LambdaFunction._get_layers_data`` gets the LayerVersion object, not its ARN:
"'LayerVersion' object has no attribute 'replace'"). CloudFormation passes the ARN; so do we.

    python tools/moto_server.py -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import sys
from typing import Any

from moto.awslambda import models
from moto.server import main

_get_layers_data = models.LambdaFunction._get_layers_data


def _layers_by_arn(self: models.LambdaFunction, layers: list[Any]) -> Any:
    return _get_layers_data(self, [getattr(layer, "arn", layer) for layer in layers])


models.LambdaFunction._get_layers_data = _layers_by_arn  # type: ignore[method-assign,assignment]

if __name__ == "__main__":
    main(sys.argv[1:])
