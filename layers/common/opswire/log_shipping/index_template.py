"""The index template installed on first use (one ``PUT _index_template/<name>?create=true``
per container; an existing template, maybe tuned by an operator, is left as it is)."""

import re
from typing import Any, Literal, Protocol

TEMPLATE_VERSION = 1

_KEYWORD = {"type": "keyword", "ignore_above": 1024}


class IndexTemplateInstaller(Protocol):
    def ensure_index_template(self, name: str, body: dict[str, Any]) -> None: ...


def index_patterns(index_pattern: str) -> list[str]:
    """``logs-{group}-{date}`` -> ``["logs-*"]``: what every index (or data stream) it names
    matches."""
    wildcard = re.sub(r"\{\w+\}", "*", index_pattern)
    wildcard = re.sub(r"\*[^*]*\*", "*", wildcard)  # logs-*-* -> logs-*
    return [wildcard]


def index_template_body(
    index_pattern: str, mode: Literal["index", "data_stream"]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "index_patterns": index_patterns(index_pattern),
        "priority": 200,
        "version": TEMPLATE_VERSION,
        "_meta": {"managed_by": "opswire"},
        "template": {
            "mappings": {
                "properties": {
                    "@timestamp": {"type": "date"},
                    "message": {"type": "text"},
                    "log_group": _KEYWORD,
                    "log_stream": _KEYWORD,
                    "owner": _KEYWORD,
                    "region": _KEYWORD,
                    "level": _KEYWORD,
                    "request_id": _KEYWORD,
                    "lambda": {
                        "properties": {
                            "event": _KEYWORD,
                            "request_id": _KEYWORD,
                            "version": _KEYWORD,
                            "xray_trace_id": _KEYWORD,
                            "duration_ms": {"type": "float"},
                            "billed_duration_ms": {"type": "float"},
                            "init_duration_ms": {"type": "float"},
                            "memory_size_mb": {"type": "integer"},
                            "max_memory_used_mb": {"type": "integer"},
                        }
                    },
                    "json": {"type": "object"},
                }
            }
        },
    }
    if mode == "data_stream":
        body["data_stream"] = {"timestamp_field": {"name": "@timestamp"}}
    return body
