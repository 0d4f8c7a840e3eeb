"""Log shipping's adapters: OpenSearch ``_bulk`` over http.client (``opensearch``),
the destinations without OpenSearch (``destinations``), the S3 dead-letter bucket
(``s3_dead_letters``) and CloudWatch Logs subscription filters (``log_subscriptions``). Each
implements a ``typing.Protocol`` of the domain; SDK errors become ``opswire.core.errors``
(``raise ... from``). Only ``opswire.log_shipping.wiring`` builds them.

Nothing is imported here: each module is imported on its own, when first needed.
"""
