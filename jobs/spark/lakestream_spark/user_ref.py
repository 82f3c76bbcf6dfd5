"""Pseudonymous user references: `user_ref` = keyed hash of `user_id`, for per-user dashboard panels.

The key is a Secrets Manager secret that EMR Serverless resolves into the Spark property
USER_REF_KEY_PROPERTY when a job starts (the application's spark-defaults carry
`EMR.secret@<secret name>`, so the value never appears in an API, a template or a job argument).
Only the Spark job role can read the secret and decrypt it; Grafana's role cannot, so a dashboard
reader can neither compute a reference from a user id nor reverse one.

HMAC-SHA256, not a bare hash: without the key, anyone holding a list of user ids could hash them
and re-identify every row. Truncated to 128 bits (32 hex characters): collisions need about 2**64
users, and the panels stay readable.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Callable, Optional

# Spark property the secret is resolved into (lib/constructs/gdpr/user-ref-key.ts sets it).
USER_REF_KEY_PROPERTY = "spark.lakestream.userRefKey"
# Spark SQL function name the jobs register (streaming_bronze.py, daily_report.py).
USER_REF_FUNCTION = "lakestream_user_ref"
USER_REF_HEX_LENGTH = 32
# Secrets Manager generates 64 characters; a short key would make the references guessable.
MIN_KEY_LENGTH = 32


def check_key(key: Optional[str]) -> bytes:
    """The key as bytes, or a clear error when the job was started without it."""
    if not key or key.startswith("EMR.secret@"):
        raise ValueError(
            f"Spark property {USER_REF_KEY_PROPERTY} is not set or was not resolved: the EMR Serverless "
            "application must carry it in spark-defaults as EMR.secret@<secret name>, and the job role "
            "must be allowed secretsmanager:GetSecretValue on that secret and kms:Decrypt on its key"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"Spark property {USER_REF_KEY_PROPERTY} holds {len(key)} characters; at least {MIN_KEY_LENGTH} are required")
    return key.encode("utf-8")


def user_ref(key: bytes, user_id: Optional[str]) -> Optional[str]:
    """HMAC-SHA256 of the user id under `key`, first 32 hex characters; None for a missing id."""
    if user_id is None:
        return None
    return hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()[:USER_REF_HEX_LENGTH]


def user_ref_function(key: bytes) -> Callable[[Optional[str]], Optional[str]]:
    """The one-argument function the jobs register as USER_REF_FUNCTION (the key travels in its closure)."""

    def apply(user_id: Optional[str]) -> Optional[str]:
        return user_ref(key, user_id)

    return apply


def register(spark) -> None:
    """Registers USER_REF_FUNCTION on the session from the resolved secret, or fails naming what is missing."""
    from pyspark.sql.types import StringType

    key = check_key(spark.conf.get(USER_REF_KEY_PROPERTY, None))
    spark.udf.register(USER_REF_FUNCTION, user_ref_function(key), StringType())
