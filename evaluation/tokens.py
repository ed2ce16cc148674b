"""Signed tokens of evaluation (django.core.signing, keyed by SECRET_KEY; no table of secrets):

- device host tokens: the host's name signed (`device_host_token(name)`); a host presents it as
  `Authorization: Device <token>`; `device_host_name_from_token` checks it. Disabling the host's
  `DeviceHost` row revokes it.
- model download URLs: a job's uid signed with a timestamp (`model_download_path(job)`), valid for
  `EVALUATION_MODEL_URL_MAX_AGE_S` seconds (10 minutes by default); issued when a device claims the job.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

HOST_SALT = "evaluation.device-host"
MODEL_URL_SALT = "evaluation.model-download"


def device_host_token(name: str) -> str:
    return signing.Signer(salt=HOST_SALT).sign(name)


def device_host_name_from_token(token: str) -> str | None:
    try:
        return signing.Signer(salt=HOST_SALT).unsign(token.strip())
    except signing.BadSignature:
        return None


def model_url_max_age() -> int:
    return int(settings.EVALUATION_MODEL_URL_MAX_AGE_S)


def model_download_path(job) -> str:
    signature = signing.TimestampSigner(salt=MODEL_URL_SALT).sign(str(job.uid)).rsplit(":", 2)
    path = reverse("evaluation-api:job-model", kwargs={"uid": job.uid})
    return f"{path}?t={signature[1]}&s={signature[2]}"


def model_download_valid(uid: str, timestamp: str, signature: str) -> bool:
    try:
        value = signing.TimestampSigner(salt=MODEL_URL_SALT).unsign(
            f"{uid}:{timestamp}:{signature}", max_age=model_url_max_age()
        )
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return value == str(uid)
