"""Partner logos and speaker photos: decoded only in the sandbox, shrunk to fit, stored as PNG in our
own storage and served from it; a file that is not an image, or one of 50 MB, gets a clear message and
nothing is stored (an existing partner keeps its logo); an image of more than 40 megapixels (a
decompression bomb) is refused from its header, before it is decoded."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from conference.proceedings.models import InvitedTalk, Partner
from tests import html


def image_bytes(size=(2000, 1000), fmt="PNG", color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def chair_client(client, chair):
    client.force_login(chair)
    return client


def post_partner(
    client, logo: bytes, name="logo.png", url="/mai-proc/proceedings/partners/", partner="Samsung"
):
    return client.post(
        url,
        {
            "name": partner,
            "url": "https://www.samsung.com",
            "order": "1",
            "logo": SimpleUploadedFile(name, logo),
        },
    )


def test_a_logo_is_checked_resized_stored_and_served(chair_client, edition):
    response = post_partner(chair_client, image_bytes((2000, 1000), "JPEG"), name="samsung.jpg")
    assert response.status_code == 302
    partner = Partner.objects.get(workshop=edition)
    assert (partner.logo_width, partner.logo_height) == (600, 300)
    served = Client().get(  # a visitor
        f"/mai-proc/partners/{partner.pk}/logo.png"
    )
    assert served["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert (image.format, image.size) == ("PNG", (600, 300))
    listed = html.element(
        chair_client.get("/mai-proc/proceedings/partners/"), data_testid=f"partner-{partner.pk}"
    )
    assert listed.text == "Samsung (600×300 px)"


def test_a_file_that_is_not_an_image_is_refused_and_nothing_stored(chair_client, edition):
    response = post_partner(chair_client, b"%PDF-1.4 this is a PDF, not a logo", name="logo.png")
    assert response.status_code == 200
    assert html.text(response, data_testid="form-errors") == (
        "Logo (PNG, JPEG, GIF or WebP): “logo.png” was refused: The file is not an image; upload a PNG, JPEG, GIF or WebP file. Nothing was saved."
    )
    assert not Partner.objects.exists()


def test_a_50_mb_logo_is_refused_before_it_is_read(chair_client, edition):
    response = post_partner(chair_client, b"\x89PNG" + bytes(50 * 1024 * 1024), name="huge.png")
    assert response.status_code == 413
    assert html.text(response, data_testid="form-errors") == (
        "The upload is 50 MB; at most 5 MB is accepted here. Nothing was read or saved."
    )
    assert not Partner.objects.exists()


def test_a_refused_new_logo_keeps_the_old_one(chair_client, edition):
    post_partner(chair_client, image_bytes((300, 100)))
    partner = Partner.objects.get()
    old = partner.logo.name
    response = post_partner(
        chair_client,
        b"GIF89a broken",
        name="new.gif",
        url=f"/mai-proc/proceedings/partners/{partner.pk}/",
        partner="Renamed",
    )
    assert html.text(response, data_testid="form-errors") == (
        "Logo (PNG, JPEG, GIF or WebP): “new.gif” was refused: The file is not an image; upload a PNG, JPEG, "
        "GIF or WebP file. Nothing was saved."
    )
    partner.refresh_from_db()
    assert (partner.name, partner.logo.name, partner.logo_width) == ("Samsung", old, 300)
    assert partner.logo.storage.exists(old)


def test_speaker_photo_is_resized_and_shown_with_the_talk(chair_client, edition):
    response = chair_client.post(
        "/mai-proc/proceedings/talks/",
        {
            "speaker": "Grace Hopper",
            "affiliation": "Navy Labs",
            "title": "Compilers for tiny NPUs",
            "abstract": "How to fit a network in 1 MB.",
            "bio": "Pioneer.",
            "photo": SimpleUploadedFile("grace.webp", image_bytes((1200, 1600), "WEBP")),
        },
    )
    assert response.status_code == 302
    talk = InvitedTalk.objects.get()
    with talk.photo.open("rb") as handle:
        assert Image.open(handle).size == (300, 400)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width`×`height` pixels (one black row of data follows): what a
    decompression bomb looks like before it is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + bytes((width + 7) // 8)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8000, 6000),  # 48 Mpx: above the cap, below the 80 Mpx where Pillow itself would stop
        (100_000, 100_000),  # 10 gigapixels in a file of a few kB
    ],
)
def test_an_image_of_more_than_40_megapixels_is_refused_before_it_is_decoded(
    chair_client, edition, width, height
):
    bomb = png_claiming(width, height)
    assert len(bomb) < 20_000
    response = post_partner(chair_client, bomb, name="bomb.png")
    assert response.status_code == 200
    assert html.text(response, data_testid="form-errors") == (
        f"Logo (PNG, JPEG, GIF or WebP): “bomb.png” was refused: The file is an image of {width}×{height} "
        "pixels; at most 40 million pixels are accepted. Nothing was saved."
    )
    assert not Partner.objects.exists()
