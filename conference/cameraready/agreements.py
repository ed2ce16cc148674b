"""The standard texts authors agree to, per licence, and the version id of a text (the first 12 hex
digits of its SHA-256, so the same words always get the same id). A chair may replace the text of an
edition in `CameraReadySettings`; signed agreements keep the exact words and id they agreed to."""

import hashlib

from .models import Licence

STANDARD_TEXTS = {
    Licence.IEEE_COPYRIGHT: (
        "IEEE copyright transfer. The undersigned, on behalf of the authors (or of their employer "
        "where the work was made for hire), transfers to the Institute of Electrical and Electronics "
        "Engineers, Inc. (IEEE) the copyright of the paper named in this form, as it appears in the workshop "
        "proceedings, effective if and when the paper is published. The authors keep the rights IEEE's "
        "copyright policy grants them, including to post the accepted version on their own and their "
        "employer's web sites and in the CVF Open Access repository. The undersigned confirms that the "
        "paper is the authors' original work, that it has not been published before, and that they have "
        "the right to sign for every author."
    ),
    Licence.CC_BY_4: (
        "Creative Commons Attribution 4.0 International licence (CC BY 4.0). The undersigned, on behalf "
        "of the authors (or of their employer where the work was made for hire), grants everyone the "
        "right to share and adapt the paper named in this form, for any purpose, provided the authors are "
        "credited, a link to the licence (https://creativecommons.org/licenses/by/4.0/) is given and "
        "changes are indicated. The authors keep their copyright. The undersigned confirms that the "
        "paper is the authors' original work and that they have the right to sign for every author."
    ),
}


def text_version(text: str) -> str:
    """The version id of an agreement text."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:12]
