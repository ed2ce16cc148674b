"""Fixes of the security review of conversion, through the path a user takes: calibration files that
used to crash the page (a decompression bomb in a zip, a 0-d .npy, an .npz that expands past the limit)
are refused with a clear message on the organisers' calibration page and nothing is stored; the
`is_staff` flag alone no longer opens another participant's converted model."""

import io
import zipfile

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from conversion import services
from conversion.models import CalibrationSet, Conversion
from tests import html
from tests.conversion.conftest import SR_IN

pytestmark = pytest.mark.django_db


@pytest.fixture
def chair_client(client, make_user, sr_track):
    from tests.factories import MembershipFactory

    chair = make_user()
    MembershipFactory(workshop=sr_track.workshop, user=chair, role="chair")
    client.force_login(chair)
    return client


def _upload(client, track, name: str, data: bytes):
    return client.post(
        f"/conversion/tracks/{track.pk}/calibration/", {"file": SimpleUploadedFile(name, data)}
    )


def _refusal(response) -> str:
    assert response.status_code == 400, response.status_code
    return html.text(response.content, **{"data-testid": "form-errors"})


def test_a_zip_with_a_decompression_bomb_png_is_refused_before_decoding(chair_client, sr_track):
    png = io.BytesIO()
    Image.new("1", (14000, 14000)).save(png, format="PNG")  # 196 million pixels, about 25 KB
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("0001.png", png.getvalue())
    assert len(archive.getvalue()) < 100_000
    response = _upload(chair_client, sr_track, "bomb.zip", archive.getvalue())
    assert _refusal(response) == (
        "The image 0001.png in bomb.zip is 14000×14000 pixels; the track's input is 1×24×32×3, so each "
        "image must be 32×24 pixels."
    )
    assert list(CalibrationSet.objects.values_list("original_name", flat=True)) == ["div2k_lr.npz"]


def test_a_zero_dimensional_npy_is_refused(chair_client, sr_track):
    scalar = io.BytesIO()
    np.save(scalar, np.float32(3))
    response = _upload(chair_client, sr_track, "scalar.npy", scalar.getvalue())
    assert _refusal(response) == (
        "The calibration file scalar.npy holds a single number; an .npy file must hold a stack of "
        "samples, N×24×32×3."
    )
    assert list(CalibrationSet.objects.values_list("original_name", flat=True)) == ["div2k_lr.npz"]


def test_an_npz_that_expands_past_the_limit_is_refused_unread(chair_client, sr_track, monkeypatch):
    monkeypatch.setattr(services, "CALIBRATION_MAX_UNCOMPRESSED", 2**20)
    packed = io.BytesIO()
    np.savez_compressed(packed, a=np.zeros((4 * 2**20,), dtype=np.uint8))
    assert len(packed.getvalue()) < 50_000
    response = _upload(chair_client, sr_track, "packed.npz", packed.getvalue())
    assert _refusal(response).startswith("The calibration file packed.npz expands to 4.0 MB; at most 1.0 MB")
    assert list(CalibrationSet.objects.values_list("original_name", flat=True)) == ["div2k_lr.npz"]


def test_a_zip_of_images_of_the_input_size_is_stored(chair_client, sr_track):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3):
            png = io.BytesIO()
            Image.new("RGB", (SR_IN[1], SR_IN[0]), (10 * i, 20, 30)).save(png, format="PNG")
            zf.writestr(f"{i:04d}.png", png.getvalue())
    response = _upload(chair_client, sr_track, "frames.zip", archive.getvalue())
    assert response.status_code == 302
    stored = CalibrationSet.objects.get(original_name="frames.zip")
    assert (stored.samples, stored.sample_shape) == (3, list(SR_IN))


def test_the_staff_flag_alone_does_not_open_another_participants_conversion(client, make_user, sr_track):
    conversion = Conversion.objects.create(
        owner=make_user(),
        challenge=sr_track,
        source_format="keras",
        source_name="net.keras",
        output_kind="float32",
        input_shape=[1, *SR_IN],
        state="done",
    )
    conversion.result_file.save("net.tflite", ContentFile(b"TFL3"), save=True)
    paths = (
        conversion.get_absolute_url(),
        f"/conversion/{conversion.uid}/model.tflite",
        f"/api/conversion/conversions/{conversion.uid}/",
    )
    staff = make_user()
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    assert [client.get(p).status_code for p in paths] == [404, 404, 404]

    admin = make_user()
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(admin)
    assert [client.get(p).status_code for p in paths] == [200, 200, 200]
