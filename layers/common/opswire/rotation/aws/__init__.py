"""The rotation workflow's adapters over boto3 and pg8000: ``secret_store`` (Secrets Manager for
the rotation protocol), ``postgres_database`` (PostgreSQL roles and passwords) and
``iam_access_keys`` (IAM access keys, STS identity checks). Only ``opswire.rotation.wiring``
builds them; each module is imported on first use, none by this package.
"""
