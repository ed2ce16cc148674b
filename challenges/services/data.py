"""Data files: the organisers' train, validation and test splits (private storage or an external URL);
ground truth is checked to be scoreable when uploaded."""

import hashlib

from django.db import transaction

from .. import scoring
from ..models import Challenge, DataFile
from .base import ChallengeError


@transaction.atomic
def data_file_create(
    *,
    challenge: Challenge,
    split: str,
    title: str,
    upload=None,
    external_url: str = "",
    description: str = "",
) -> DataFile:
    """Stores an organiser's data file (to private storage) or records an external URL."""
    if split not in DataFile.Split.values:
        raise ChallengeError("Unknown data split.")
    if bool(upload) == bool(external_url):
        raise ChallengeError("Give either a file or an external URL.")
    if split in DataFile.GROUND_TRUTH and external_url:
        raise ChallengeError("Ground truth must be uploaded: it is never linked from outside.")
    data_file = DataFile(
        challenge=challenge,
        split=split,
        title=title or getattr(upload, "name", "data"),
        external_url=external_url,
        description=description,
    )
    if upload:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        if upload.size == 0:
            raise ChallengeError("The file is empty (0 bytes).")
        data_file.size = upload.size
        data_file.sha256 = digest.hexdigest()
        upload.seek(0)
        if split in DataFile.GROUND_TRUTH:
            _check_ground_truth(challenge, upload)
            upload.seek(0)
        data_file.file.save(upload.name, upload, save=False)
    data_file.save()
    return data_file


def _check_ground_truth(challenge: Challenge, upload) -> None:
    """Ground truth that the scorer could not read would fail every submission: refuse it at upload."""
    if upload.size > 4 * 1024**3:
        return  # too large to parse here; the scorer reads it
    try:
        names = scoring.expected_names(result_format=challenge.result_format, ground_truth=upload.read())
    except scoring.ScoringError as exc:
        raise ChallengeError(f"This ground truth cannot be scored against: {exc}") from None
    if not names:
        raise ChallengeError("This ground truth holds no files.")
