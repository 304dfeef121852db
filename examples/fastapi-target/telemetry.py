"""OpenTelemetry for the example service, the way such services set it up:
the official SDK, a batch span processor, OTLP over HTTP, and the FastAPI,
httpx and OpenAI instrumentations. Nothing here knows genbench: it reads
the standard environment variables.

- OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318) turns it on;
  spans go to its /v1/traces.
- OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (the default), or http/json,
  which the Python SDK has no exporter for; JsonSpanExporter below sends
  the same OTLP message in the protocol's JSON mapping (hex ids, integer
  enums), as an OpenTelemetry Collector's exporters do.
"""

import json
import os
import urllib.request

ENDPOINT = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").rstrip("/")


def _hex_ids(node):
    """The protobuf JSON mapping writes bytes as base64; OTLP/JSON wants
    trace and span ids as hex."""
    import base64

    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                node[k] = base64.b64decode(v).hex()
            else:
                _hex_ids(v)
    elif isinstance(node, list):
        for v in node:
            _hex_ids(v)


class JsonSpanExporter:
    """OTLP/HTTP with the JSON encoding."""

    def __init__(self, endpoint: str):
        self.url = endpoint + "/v1/traces"

    def export(self, spans):
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        from opentelemetry.sdk.trace.export import SpanExportResult

        body = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
        _hex_ids(body)
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
            return SpanExportResult.SUCCESS
        except OSError:
            return SpanExportResult.FAILURE

    def shutdown(self):
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def setup():
    if not ENDPOINT:
        return
    from opentelemetry import trace
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") == "http/json":
        exporter = JsonSpanExporter(ENDPOINT)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter()  # reads the endpoint from the environment
    provider = TracerProvider(resource=Resource.create({"service.name": "article-service"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    OpenAIInstrumentor().instrument()


def instrument(app):
    if not ENDPOINT:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app)
