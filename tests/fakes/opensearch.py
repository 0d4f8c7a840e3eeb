"""A local HTTP server that answers ``_bulk`` and ``_index_template`` like OpenSearch 2.x.

It is a real HTTP server (pytest-httpserver, threaded), so the client under test is the real
transport (http.client): real NDJSON, real gzip bodies, real SigV4 or basic-auth headers. The
fake keeps an in-memory store keyed by (index, id), a dynamic mapping per index (the first type
seen for a field wins; a conflicting value is a ``mapper_parsing_exception``, as in OpenSearch),
index templates (mappings and ``data_stream`` of the matching template apply to new indices),
and scripted faults: item-level statuses per document id, request-level 503s, slow answers and a
body size limit (413).
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

_AUTH_HEADER = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass
class SigV4Expectation:
    region: str
    service: str
    credentials: Callable[[], tuple[str, str, str | None]]  # key, secret, token at request time


@dataclass
class Fault:
    """One request-level fault: an HTTP status with a body, or a delay before answering."""

    status: int | None = None
    delay_seconds: float = 0.0


@dataclass
class FakeOpenSearch:
    sigv4: SigV4Expectation | None = None
    basic: tuple[str, str] | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    # document id -> statuses of its 1st, 2nd, ... appearance in a bulk (429, 503; None = ok)
    item_faults: dict[str, list[int | None]] = field(default_factory=dict)
    request_faults: list[Fault] = field(default_factory=list)  # consumed per _bulk request
    documents: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)
    mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    data_streams: set[str] = field(default_factory=set)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _appearances: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- HTTP ---------------------------------------------------------------------------------
    def install(self, server: Any) -> None:
        server.expect_request(re.compile(r"^/_bulk$"), method="POST").respond_with_handler(
            self.handle_bulk
        )
        server.expect_request(
            re.compile(r"^/_index_template/[^/]+$"), method="PUT"
        ).respond_with_handler(self.handle_template)

    def handle_bulk(self, request: Request) -> Response:
        raw = request.get_data()
        record = {"headers": dict(request.headers), "raw_bytes": len(raw), "ids": []}
        with self._lock:
            self.requests.append(record)
            fault = self.request_faults.pop(0) if self.request_faults else None
        denied = self._authenticate(request, raw)
        if denied is not None:
            return denied
        if fault is not None and fault.delay_seconds:
            time.sleep(fault.delay_seconds)  # a slow cluster: it still indexes, late
        if fault is not None and fault.status is not None:
            return _json(
                {
                    "error": {
                        "root_cause": [
                            {
                                "type": "cluster_block_exception",
                                "reason": "blocked by: [SERVICE_UNAVAILABLE/2/no cluster-manager];",
                            }
                        ],
                        "type": "cluster_block_exception",
                        "reason": "blocked by: [SERVICE_UNAVAILABLE/2/no cluster-manager];",
                    },
                    "status": fault.status,
                },
                fault.status,
            )
        if len(raw) > self.max_body_bytes:
            # What the Amazon OpenSearch Service front answers for a body over its limit.
            return _json({"Message": f"Request size exceeded {self.max_body_bytes} bytes"}, 413)
        content_type = (request.headers.get("Content-Type") or "").split(";")[0]
        if content_type not in ("application/json", "application/x-ndjson"):
            return _json(
                {"error": f"Content-Type header [{content_type}] is not supported", "status": 406},
                406,
            )
        body = gzip.decompress(raw) if request.headers.get("Content-Encoding") == "gzip" else raw
        record["body"] = body
        lines = body.splitlines()
        if len(lines) % 2 or not body.endswith(b"\n"):
            return _json(
                {
                    "error": {
                        "type": "illegal_argument_exception",
                        "reason": "The bulk request must be terminated by a newline [\\n]",
                    },
                    "status": 400,
                },
                400,
            )
        started = time.monotonic()
        items = []
        with self._lock:
            for action_line, source_line in zip(lines[::2], lines[1::2], strict=True):
                ((op, action),) = json.loads(action_line).items()
                record["ids"].append(action["_id"])
                items.append({op: self._item(op, action, json.loads(source_line))})
        took = int((time.monotonic() - started) * 1000)
        errors = any("error" in next(iter(item.values())) for item in items)
        answer = {"took": took, "errors": errors, "items": items}
        filter_path = request.args.get("filter_path")
        if filter_path:
            answer = filter_response(answer, [p.split(".") for p in filter_path.split(",")])
        return _json(answer, 200)

    def handle_template(self, request: Request) -> Response:
        denied = self._authenticate(request, request.get_data())
        if denied is not None:
            return denied
        name = request.path.rsplit("/", 1)[1]
        if request.args.get("create") == "true" and name in self.templates:
            reason = f"index template [{name}] already exists"
            return _json(
                {
                    "error": {
                        "root_cause": [{"type": "illegal_argument_exception", "reason": reason}],
                        "type": "illegal_argument_exception",
                        "reason": reason,
                    },
                    "status": 400,
                },
                400,
            )
        self.templates[name] = json.loads(request.get_data())
        return _json({"acknowledged": True}, 200)

    # ---- documents ----------------------------------------------------------------------------
    def _item(self, op: str, action: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        index, doc_id = action["_index"], action["_id"]
        head = {"_index": index, "_id": doc_id}
        appearance = self._appearances.get(doc_id, 0)
        self._appearances[doc_id] = appearance + 1
        script = self.item_faults.get(doc_id, [])
        status = script[appearance] if appearance < len(script) else None
        if status == 429:
            return {
                **head,
                "status": 429,
                "error": {
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution of coordinating operation "
                    "[coordinating_and_primary_bytes=104857600, replica_bytes=0, "
                    "all_bytes=104857600, max_coordinating_and_primary_bytes=104857600]",
                },
            }
        if status is not None:
            return {
                **head,
                "status": status,
                "error": {
                    "type": "unavailable_shards_exception",
                    "reason": f"[{index}][0] primary shard is not active",
                },
            }
        if index not in self.mappings:
            self._create_index(index)
        if index in self.data_streams and op != "create":
            return {
                **head,
                "status": 400,
                "error": {
                    "type": "illegal_argument_exception",
                    "reason": "only write ops with an op_type of create are allowed in data "
                    "streams",
                },
            }
        key = (index, doc_id)
        if op == "create" and key in self.documents:
            return {
                **head,
                "status": 409,
                "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict, document already exists "
                    f"(current version [{self.versions[key]}])",
                },
            }
        problem = _check_mapping(self.mappings[index], source, "")
        if problem is not None:
            return {
                **head,
                "status": 400,
                "error": {
                    "type": "mapper_parsing_exception",
                    "reason": f"{problem} in document with id '{doc_id}'",
                },
            }
        created = key not in self.documents
        self.documents[key] = source
        self.versions[key] = self.versions.get(key, 0) + 1
        return {
            **head,
            "_version": self.versions[key],
            "result": "created" if created else "updated",
            "_shards": {"total": 2, "successful": 1, "failed": 0},
            "_seq_no": len(self.documents),
            "_primary_term": 1,
            "status": 201 if created else 200,
        }

    def _create_index(self, index: str) -> None:
        mapping: dict[str, str] = {}
        matching = [
            t
            for t in self.templates.values()
            if any(fnmatch.fnmatchcase(index, p) for p in t.get("index_patterns", []))
        ]
        if matching:
            template = max(matching, key=lambda t: t.get("priority", 0))
            properties = template.get("template", {}).get("mappings", {}).get("properties", {})
            _flatten_mapping(properties, "", mapping)
            if "data_stream" in template:
                self.data_streams.add(index)
        self.mappings[index] = mapping

    def ids(self) -> list[str]:
        return [doc_id for (_index, doc_id) in self.documents]

    # ---- auth ---------------------------------------------------------------------------------
    def _authenticate(self, request: Request, raw: bytes) -> Response | None:
        header = request.headers.get("Authorization", "")
        if self.basic is not None:
            import base64

            expected = "Basic " + base64.b64encode(":".join(self.basic).encode()).decode()
            if not hmac.compare_digest(header, expected):
                return _json({"error": "Unauthorized", "status": 401}, 401)
        if self.sigv4 is not None:
            problem = self._sigv4_problem(request, raw, header)
            if problem is not None:
                return _json({"message": problem}, 403)
        return None

    def _sigv4_problem(self, request: Request, raw: bytes, header: str) -> str | None:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        assert self.sigv4 is not None
        found = _AUTH_HEADER.fullmatch(header)
        if found is None:
            return "missing or malformed SigV4 Authorization header"
        key, secret, token = self.sigv4.credentials()
        if (found["key"], found["region"], found["service"]) != (
            key,
            self.sigv4.region,
            self.sigv4.service,
        ):
            return f"credential scope {found['region']}/{found['service']} is not expected"
        if request.headers.get("X-Amz-Content-SHA256") != hashlib.sha256(raw).hexdigest():
            return "X-Amz-Content-SHA256 does not match the body"
        signed = found["signed"].split(";")
        headers = {name: request.headers.get(name, "") for name in signed}
        # The query string as sent (werkzeug's request.url decodes it), as AWS canonicalizes it.
        query = request.query_string.decode()
        url = f"{request.scheme}://{request.host}{request.path}" + (f"?{query}" if query else "")
        aws_request = AWSRequest(method=request.method, url=url, data=raw, headers=headers)
        aws_request.context["timestamp"] = request.headers.get("X-Amz-Date", "")
        signer = SigV4Auth(Credentials(key, secret, token), found["service"], found["region"])
        canonical = signer.canonical_request(aws_request)
        expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        if not hmac.compare_digest(expected, found["signature"]):
            return "The request signature we calculated does not match the signature you provided"
        return None


def filter_response(value: Any, paths: list[list[str]]) -> Any:
    """OpenSearch's ``filter_path``: keep only matching paths (``*`` matches any key; arrays
    apply the paths to each element; objects left empty are dropped)."""
    if isinstance(value, list):
        kept = [filter_response(item, paths) for item in value]
        return [item for item in kept if item not in (None, {}, [])]
    if not isinstance(value, dict):
        return None
    out = {}
    for key, item in value.items():
        rests = [path[1:] for path in paths if path and path[0] in ("*", key)]
        if not rests:
            continue
        if any(not rest for rest in rests):
            out[key] = item
            continue
        filtered = filter_response(item, rests)
        if filtered not in (None, {}, []):
            out[key] = filtered
    return out


def _json(document: Any, status: int) -> Response:
    # Compact, as OpenSearch answers (the shipper counts an all-indexed answer on its bytes).
    return Response(
        json.dumps(document, separators=(",", ":")), status=status, content_type="application/json"
    )


def _flatten_mapping(properties: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            out[path] = "object"
            _flatten_mapping(spec["properties"], path + ".", out)
        else:
            out[path] = spec.get("type", "object")


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict):
        return "object"
    return "text"


def _check_mapping(mapping: dict[str, str], source: dict[str, Any], prefix: str) -> str | None:
    """Dynamic mapping as OpenSearch does it: new fields get the type of their first value;
    a later value that cannot be coerced to the mapped type is a parsing error."""
    for name, value in source.items():
        path = f"{prefix}{name}"
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None:
                continue
            kind = _value_type(item)
            mapped = mapping.get(path)
            if mapped is None:
                mapping[path] = "keyword" if kind == "text" and path != "message" else kind
                mapped = mapping[path]
            if mapped == "object" and kind != "object":
                return (
                    f"object mapping for [{path}] tried to parse field [{name}] as object, "
                    "but found a concrete value"
                )
            if mapped != "object" and kind == "object":
                return f"failed to parse field [{path}] of type [{mapped}]"
            if kind == "object":
                problem = _check_mapping(mapping, item, path + ".")
                if problem is not None:
                    return problem
            elif mapped in ("long", "integer", "float") and kind == "text":
                try:
                    float(item)
                except ValueError:
                    return (
                        f"failed to parse field [{path}] of type [{mapped}]. "
                        f"Preview of field's value: '{item}'"
                    )
            elif mapped == "date" and kind == "text" and not re.match(r"\d{4}-\d\d-\d\d", item):
                return f"failed to parse field [{path}] of type [date]"
            elif mapped == "boolean" and kind != "boolean" and item not in ("true", "false"):
                return f"failed to parse field [{path}] of type [boolean]"
    return None
