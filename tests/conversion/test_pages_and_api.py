"""The "Convert" page, a conversion's page, the organisers' calibration page and the API, read as their
users read them (the element that shows each thing); nothing here runs a converter."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from conversion import selectors
from conversion.models import Conversion
from tests import html
from tests.conversion.conftest import SR_IN, npz_bytes, smooth_images

pytestmark = pytest.mark.django_db


def test_the_page_lists_the_formats_accepted_now(client, make_user):
    client.force_login(make_user())
    page = client.get("/conversion/").content
    assert html.text(page, **{"data-testid": "format-keras"}) == "accepted"
    assert html.text(page, **{"data-testid": "format-savedmodel"}) == "accepted"
    # PyTorch depends on the optional "convert" extra: tests/conversion/test_pytorch.py covers both cases.
    pt2 = selectors.pt2_available()
    assert html.text(page, **{"data-testid": "format-pt2"}) == ("accepted" if pt2 else "not accepted")
    assert html.text(page, **{"data-testid": "format-onnx"}) == "not accepted"
    onnx = html.text(page, tag="li", **{"data-format": "onnx"})
    assert "onnx2tf, the converter for them, needs numpy 1.26" in onnx
    accept = ".keras,.h5,.zip,.pt2" if pt2 else ".keras,.h5,.zip"
    assert html.element(page, tag="input", id="id_model").attrs["accept"] == accept


def test_a_pickled_checkpoint_on_the_page_gets_the_export_instructions(client, make_user):
    client.force_login(make_user())
    response = client.post(
        "/conversion/",
        {
            "model": SimpleUploadedFile("weights.pth", b"\x80\x02}q\x00."),
            "output_kind": "float32",
            "input_shape": "1x8x8x3",
        },
    )
    assert response.status_code == 400
    errors = html.text(response.content, **{"data-testid": "form-errors"})
    assert (
        errors.startswith("This is a pickled PyTorch checkpoint")
        and "torch.export.save(ep, 'model.pt2')" in errors
    )
    assert not Conversion.objects.exists()


def test_an_oversized_upload_is_refused_from_its_content_length(client, make_user, settings):
    settings.CONVERSION_MAX_UPLOAD_BYTES = 2048
    client.force_login(make_user())
    response = client.post(
        "/conversion/",
        {
            "model": SimpleUploadedFile("big.keras", b"PK" + b"\0" * (2 * 1024 * 1024)),
            "output_kind": "float32",
        },
    )
    assert response.status_code == 413
    assert html.text(response.content, **{"data-testid": "form-errors"}).startswith("The upload is 2 MB;")
    assert not Conversion.objects.exists()


def test_the_api_queues_a_conversion_and_only_its_owner_sees_it(client, make_user, keras_models):
    owner = make_user()
    client.force_login(owner)
    created = client.post(
        "/api/conversion/conversions/",
        {
            "model": SimpleUploadedFile("unet_x3.keras", keras_models["unet_x3"].read_bytes()),
            "output_kind": "float16",
            "input_shape": "1x24x32x3",
            "output_shape": "1x72x96x3",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["state"],
        body["source_format"],
        body["input_shape"],
        body["output_shape"],
        body["model_url"],
    ) == (
        "queued",
        "keras",
        [1, 24, 32, 3],
        [1, 72, 96, 3],
        None,
    )
    conversion = Conversion.objects.get(uid=body["uid"])
    assert client.get(f"/api/conversion/conversions/{conversion.uid}/").json()["uid"] == str(conversion.uid)
    page = client.get(conversion.get_absolute_url()).content
    assert html.text(page, **{"data-testid": "conversion-state"}) == "Queued"

    client.force_login(make_user())
    assert client.get(f"/api/conversion/conversions/{conversion.uid}/").status_code == 404
    assert client.get(conversion.get_absolute_url()).status_code == 404
    assert client.get(f"/conversion/{conversion.uid}/model.tflite").status_code == 404
    assert client.post(f"/conversion/{conversion.uid}/check-runtime/").status_code == 404


def test_the_api_names_the_formats(client, make_user):
    client.force_login(make_user())
    formats = {f["code"]: f for f in client.get("/api/conversion/formats/").json()}
    assert formats["keras"]["available"] and not formats["onnx"]["available"]
    assert formats["pt2"]["available"] == selectors.pt2_available()


def test_a_finished_conversion_shows_its_report(client, make_user, sr_track):
    owner = make_user()
    conversion = Conversion.objects.create(
        owner=owner,
        challenge=sr_track,
        source_format="keras",
        source_name="net.keras",
        output_kind="int8",
        input_shape=[1, *SR_IN],
        output_shape=[1, 72, 96, 3],
        input_range=[0, 255],
        state="done",
        result_size=123456,
        model_info={
            "kind": "full-integer",
            "inputs": [{"dtype": "uint8", "shape": [1, 24, 32, 3], "scale": 1.0, "zero_point": 0}],
            "outputs": [{"dtype": "uint8", "shape": [1, 72, 96, 3], "scale": 1.0, "zero_point": 0}],
            "operators": {"CONV_2D": 3, "TRANSPOSE_CONV": 2, "GATHER_ND": 1},
        },
        delegate_report={
            "device": "phone",
            "accelerator": "nnapi",
            "unsupported": {"GATHER_ND": 1},
            "note": "",
        },
        fidelity={"kind": "image", "samples": 3, "psnr": 36.123, "ssim": 0.98765, "calibration_samples": 12},
        calibration_source="calibration set div2k_lr.npz",
    )
    conversion.result_file.save("net_int8.tflite", ContentFile(b"TFL3"), save=True)
    client.force_login(owner)
    page = client.get(conversion.get_absolute_url()).content
    assert html.text(page, **{"data-testid": "contract-verdict"}).startswith("Accepted by the intake of")
    assert html.text(page, **{"data-testid": "fidelity-psnr"}) == "36.12 dB"
    assert html.text(page, **{"data-testid": "fidelity-ssim"}) == "0.9877"
    assert html.text(page, **{"data-testid": "delegate-unsupported"}) == "GATHER_ND ×1"
    assert html.text(page, **{"data-testid": "result-size"}) == "120.6 KB"
    download = client.get(f"/conversion/{conversion.uid}/model.tflite")
    assert download["Content-Disposition"] == 'attachment; filename="net_int8.tflite"'


def test_only_organisers_upload_calibration_sets_and_a_wrong_shape_is_explained(client, make_user, sr_track):
    from tests.factories import MembershipFactory

    client.force_login(make_user())
    assert client.get(f"/conversion/tracks/{sr_track.pk}/calibration/").status_code == 404

    chair = make_user()
    MembershipFactory(workshop=sr_track.workshop, user=chair, role="chair")
    client.force_login(chair)
    links = html.element(client.get("/conversion/").content, **{"data-testid": "managed-tracks"})
    assert links.text == f"MAI Conv: {sr_track.title}"
    page = client.get(f"/conversion/tracks/{sr_track.pk}/calibration/").content
    assert (
        html.text(page, **{"data-testid": "calibration-in-use"}) == "In use now: calibration set div2k_lr.npz"
    )
    wrong = npz_bytes({"a": smooth_images(1, (10, 10, 3), seed=5)[0]})
    response = client.post(
        f"/conversion/tracks/{sr_track.pk}/calibration/", {"file": SimpleUploadedFile("small.npz", wrong)}
    )
    assert response.status_code == 400
    assert html.text(response.content, **{"data-testid": "form-errors"}) == (
        "The calibration set small.npz holds samples of 10×10×3; the track's input is 1×24×32×3, so each "
        "sample must be 24×32×3."
    )


def test_one_click_makes_the_converted_model_the_teams_final_submission(
    client, make_user, workshop, tflite_models
):
    from challenges.finalphase.models import ModelSubmission
    from common.models import Dispatch
    from tests.conversion.conftest import set_milestones
    from tests.factories import ChallengeFactory, TeamFactory

    track = ChallengeFactory(
        workshop=workshop, title="Image Denoising", input_shape=[1, 32, 32, 3], output_shape=[1, 32, 32, 3]
    )
    set_milestones(
        track, website_online=-30, train_data=-29, validation_server=-28, test_data=-1, final_deadline=2
    )
    member = make_user()
    TeamFactory(challenge=track, name="Team Convert", members=[member])
    conversion = Conversion.objects.create(
        owner=member,
        challenge=track,
        source_format="keras",
        source_name="denoise.keras",
        output_kind="float32",
        input_shape=[1, 32, 32, 3],
        output_shape=[1, 32, 32, 3],
        input_range=[0, 255],
        state="done",
    )
    conversion.result_file.save(
        "denoise_float32.tflite", ContentFile(tflite_models["conv_float"].read_bytes())
    )
    client.force_login(member)
    response = client.post(f"/conversion/{conversion.uid}/submit/")
    submission = ModelSubmission.objects.get(challenge=track)
    assert response.status_code == 302 and response["Location"] == submission.get_absolute_url()
    assert submission.team.name == "Team Convert" and submission.method_name == "Converted from denoise.keras"
    assert Dispatch.objects.filter(task="finalphase.run_fidelity").count() == 1

    client.force_login(make_user())  # not the owner: nothing to see, nothing to submit
    assert client.post(f"/conversion/{conversion.uid}/submit/").status_code == 404


def test_the_api_sends_a_result_to_a_runtime_check_on_the_host_cpu(client, make_user, tflite_models):
    from evaluation.models import RuntimeJob
    from tests.factories import DeviceFactory

    DeviceFactory(slug="host-cpu", name="Host CPU", accelerators=["cpu", "xnnpack"])
    owner = make_user()
    conversion = Conversion.objects.create(
        owner=owner,
        source_format="keras",
        source_name="net.keras",
        output_kind="float32",
        input_shape=[1, 32, 32, 3],
        input_range=[0, 255],
        state="done",
    )
    conversion.result_file.save("net_float32.tflite", ContentFile(tflite_models["conv_float"].read_bytes()))
    client.force_login(make_user())
    assert client.post(f"/api/conversion/conversions/{conversion.uid}/check-runtime/").status_code == 404
    client.force_login(owner)
    response = client.post(f"/api/conversion/conversions/{conversion.uid}/check-runtime/")
    assert response.status_code == 201, response.content
    job = RuntimeJob.objects.get(uid=response.json()["job"])
    assert (job.owner, job.device.slug, job.accelerator, job.model_name) == (
        owner,
        "host-cpu",
        "xnnpack",
        "net_float32.tflite",
    )
    assert response.json()["url"].endswith(f"/api/evaluation/jobs/{job.uid}/")
