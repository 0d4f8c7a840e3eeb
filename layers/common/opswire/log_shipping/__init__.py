"""Log shipping: CloudWatch Logs subscription deliveries -> OpenSearch ``_bulk``, nothing lost.

``decode``        the gzip + base64 subscription payload -> one ``Subscription``
``documents``     log events -> documents (structured JSON, Lambda platform lines, plain text)
``bulk``          documents -> ``_bulk`` NDJSON items, batches split by byte size
``shipper``       the bulk loop: item-level results, retries with backoff and jitter within the
                  remaining time, dead letters for what cannot be indexed
``dead_letters``  the NDJSON records of the dead-letter bucket and their object keys
``service``       one subscription delivery end to end (what ``wiring.ship`` runs)
``replay``        dead-letter objects -> OpenSearch again
``subscriptions`` which log groups to subscribe (include/exclude globs)
``index_template`` the index template installed on first use
``aws``           the adapters: OpenSearch ``_bulk``, the S3 dead-letter store, CloudWatch Logs
                  subscription filters, the destinations without OpenSearch
``wiring``        builds the adapters from settings (the handlers and ``opswire logs`` call it)

Collaborators (the bulk endpoint, the dead-letter store, the clock, CloudWatch Logs) are
``typing.Protocol`` types; ``opswire.log_shipping.aws`` implements them. The domain modules
import neither ``aws`` nor ``wiring``.
"""
