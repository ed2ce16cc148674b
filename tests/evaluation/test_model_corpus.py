"""Intake on the models participants really bring: a corpus made with TensorFlow (Keras default exports
with a dynamic batch, `None`-shaped models for every MAI contract, a deep model at full MAI resolution,
INT8 and float, mangled tensor names) and files broken on purpose (truncated, bit-flipped, zero-filled).
Each has its verdict and reason; the shape that ran, the peak memory and the worker's survival are
asserted; then "Check my runtime" (page and API) and the final-phase refusals as users meet them."""

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation import services
from evaluation.models import RuntimeJob
from evaluation.tflite import (
    ModelRejected,
    ShapeError,
    inspect_model,
    parse_shape,
    validate_against_contract,
)
from tests.tflite_models import MAI_CONTRACTS

NOT_TFLITE = "This is not a TensorFlow Lite model"
CORRUPT = "LiteRT cannot load this model"

# name → (shape hints given to intake, expected shape that ran or None when refused, reason when refused)
CORPUS = {
    "keras_default_float": ({}, [1, 32, 32, 3], None),
    "keras_default_int8": ({}, [1, 32, 32, 3], None),
    **{
        f"dynamic_{track}": ({0: in_shape}, in_shape, None)
        for track, (in_shape, _, _, _) in MAI_CONTRACTS.items()
    },
    "deep_480x720": ({}, [1, 480, 720, 3], None),
    "mobilenet_v2_dynamic": ({0: [1, 224, 224, 3]}, [1, 224, 224, 3], None),
    "mangled_names": ({}, [1, 32, 32, 3], None),
    "unused_huge_tensor": ({}, [1, 32, 32, 3], None),
    "bitflip_weights": ({}, [1, 32, 32, 3], None),
    "bitflip_tables": ({}, None, CORRUPT),
    "truncated_tail": ({}, None, CORRUPT),
    "zero_filled": ({}, None, NOT_TFLITE),
    "zeroed_after_header": ({}, None, CORRUPT),
    "random_bytes": ({}, None, NOT_TFLITE),
}


@pytest.fixture(scope="session")
def corpus(tflite_models, tmp_path_factory):
    from tests.tflite_models import build_corpus

    return build_corpus(tmp_path_factory.mktemp("corpus"), tflite_models)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_verdicts_and_the_shape_that_ran(corpus, name):
    hints, shape, reason = CORPUS[name]
    data = corpus[name].read_bytes()
    if reason:
        with pytest.raises(ModelRejected) as excinfo:
            inspect_model(data, shape_hints=hints)
        assert excinfo.value.message.startswith(reason)
        return
    info = inspect_model(data, shape_hints=hints)
    assert info.shape_problems == [] and info.input_shapes_run == [shape]
    assert 0 < info.peak_bytes < 2**30


def test_mai_dynamic_models_fit_their_contract_at_its_size(corpus):
    """A `None`-shaped copy runs at the contract's size, with outputs of the contract's kind."""
    for track, (in_shape, dtype, out_shape, _) in MAI_CONTRACTS.items():
        data = corpus[f"dynamic_{track}"].read_bytes()
        info = inspect_model(data, shape_hints={0: in_shape})
        dynamic = {
            "inputs": [{"shape": [1, None, None, in_shape[3]], "dtype": dtype}],
            "outputs": [{"shape": [1, None, None, out_shape[3]] if len(out_shape) == 4 else out_shape}],
            "allow_dynamic": True,
        }
        assert validate_against_contract(info, dynamic) == [], track
        assert info.input_shapes_run == [in_shape]


def test_none_shaped_mobilenet_runs_at_the_tracks_size_not_at_its_placeholder(corpus):
    """LiteRT stores `None` height and width as 1: MobileNetV2's strided 3×3 convolutions cannot run
    there, so intake resizes to the track's shape before allocating."""
    data = corpus["mobilenet_v2_dynamic"].read_bytes()
    info = inspect_model(data, shape_hints={0: [1, 224, 224, 3]})
    assert info.input_shapes_run == [[1, 224, 224, 3]] and info.invoked
    assert info.inputs[0].shape == [1, 1, 1, 3] and info.inputs[0].shape_signature == [1, -1, -1, 3]
    with pytest.raises(ModelRejected) as excinfo:
        inspect_model(data, input_shapes={0: [1, 1, 1, 3]})
    assert excinfo.value.message.startswith(
        "LiteRT cannot prepare this model at input shape 1×1×1×3: tflite/kernels/conv.cc"
    )


def test_deep_model_is_judged_on_the_tensors_alive_at_once(corpus):
    """80 convolutions at 1×480×720×3: their tensors add up to about 420 MB, but only the input of one
    layer and its output are alive together (~11 MB), so a 64 MB limit accepts the model and a limit
    below the real peak refuses it with the peak and the limit."""
    data = corpus["deep_480x720"].read_bytes()
    info = inspect_model(data, max_tensor_bytes=64 * 2**20)
    assert info.tensor_bytes > 400 * 2**20
    assert 8 * 2**20 < info.peak_bytes < 16 * 2**20
    assert info.operators == {"CONV_2D": 80}
    with pytest.raises(ModelRejected) as excinfo:
        inspect_model(data, max_tensor_bytes=4 * 2**20)
    assert excinfo.value.message.startswith(
        "The model needs 10.6 MB of tensor memory at its peak at input shape 1×480×720×3"
    )
    assert "a device here allows at most 4.0 MB" in excinfo.value.message


def test_a_tensor_no_operator_uses_costs_no_memory(corpus):
    """Its declared 3.9 TB made the old sum refuse a model LiteRT loads and runs."""
    info = inspect_model(corpus["unused_huge_tensor"].read_bytes())
    assert info.invoked and info.peak_bytes < 64 * 1024 and info.tensor_bytes < 1024 * 1024


def test_intake_runs_the_model_once_with_the_jobs_kernels(corpus, tflite_models):
    info = inspect_model(corpus["keras_default_float"].read_bytes(), accelerator="xnnpack")
    assert info.invoked and info.input_shapes_run == [[1, 32, 32, 3]]
    cpu = inspect_model(tflite_models["conv_int8"].read_bytes(), accelerator="cpu")
    assert cpu.invoked and cpu.kind == "full-integer"


def test_mangled_tensor_names_are_accepted_with_their_operators(corpus):
    info = inspect_model(corpus["mangled_names"].read_bytes())
    assert info.operators == {"CONV_2D": 2, "LOGISTIC": 1, "MUL": 1} and info.invoked


@pytest.mark.parametrize(
    ("text", "shape"),
    [("1x480x720x3", [1, 480, 720, 3]), ("1×480×720×3", [1, 480, 720, 3]), ("[1, 8, 8, 3]", [1, 8, 8, 3])],
)
def test_typed_shapes_are_read(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("480 by 720", "“480 by 720” is not a shape. Write it as dimensions separated by “x”"),
        ("1x0x720x3", "Every dimension must be at least 1 (got 1×0×720×3)."),
        ("", "The input shape is empty."),
    ],
)
def test_bad_typed_shapes_say_what_a_shape_looks_like(text, message):
    with pytest.raises(ShapeError) as excinfo:
        parse_shape(text)
    assert excinfo.value.message.startswith(message)


# --- Through the services, the page and the API -----------------------------------------------------


def upload(path):
    return SimpleUploadedFile(path.name, path.read_bytes())


def text_of(page: str, attribute: str) -> str:
    """The text of the first element carrying `attribute` (e.g. 'data-testid="input-shape"'), tags
    dropped."""
    match = re.search(rf"<(\w+)[^>]*\b{attribute}[^>]*>(.*?)</\1>", page, re.S)
    assert match, f"no element with {attribute}"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(2)))).strip()


def options_of(page: str, select_id: str) -> list[dict]:
    """The options of a <select>: value, text and data-accelerators of each."""
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select #{select_id}"
    return [
        {
            "value": re.search(r'value="([^"]*)"', attrs).group(1),
            "accelerators": (re.search(r'data-accelerators="([^"]*)"', attrs) or [None, None])[1],
            "text": unescape(text).strip(),
        }
        for attrs, text in re.findall(r"<option([^>]*)>(.*?)</option>", select.group(1), re.S)
    ]


@pytest.mark.django_db
def test_keras_default_export_runs_at_batch_1(host_cpu, make_user, corpus):
    job = services.runtime_job_create(
        owner=make_user(),
        model_file=upload(corpus["keras_default_float"]),
        device="host-cpu",
        accelerator="xnnpack",
    )
    assert job.input_shapes == [[1, 32, 32, 3]] and job.options["input_shapes"] == {"0": [1, 32, 32, 3]}
    assert job.input_shape_display == "1×32×32×3"


@pytest.mark.django_db
def test_typed_shape_that_contradicts_a_declared_dimension_is_refused(host_cpu, make_user, corpus):
    with pytest.raises(services.RuntimeJobRefused) as excinfo:
        services.runtime_job_create(
            owner=make_user(),
            model_file=upload(corpus["keras_default_float"]),
            device="host-cpu",
            accelerator="cpu",
            options={"input_shape": "1x64x64x3"},
        )
    assert excinfo.value.messages == [
        "Input 0 is fixed at ?×32×32×3; the shape given for it does not match. Only the free dimensions "
        "(“?”) can be chosen, for example 1x32x32x3."
    ]
    assert RuntimeJob.objects.count() == 0


@pytest.fixture
def participant(client, make_user):
    user = make_user(email="shapes@uni.example")
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_page_offers_the_devices_accelerators_and_refuses_others(client, participant, host_cpu, corpus):
    page = client.get("/evaluation/check-runtime/").content.decode()
    assert [o["value"] for o in options_of(page, "id_accelerator")] == ["cpu", "xnnpack"]
    (device,) = options_of(page, "id_device")
    assert device["value"] == "host-cpu" and device["accelerators"] == "cpu xnnpack"
    data = {"device": "host-cpu", "accelerator": "gpu", "threads": 1, "warmup_runs": 1, "timed_runs": 5}
    response = client.post(
        "/evaluation/check-runtime/", {**data, "model": upload(corpus["keras_default_float"])}
    )
    assert response.status_code == 400
    errors = text_of(response.content.decode(), 'data-testid="form-errors"')
    assert "has no GPU accelerator; it offers CPU, CPU (XNNPACK)." in errors
    assert RuntimeJob.objects.count() == 0


@pytest.mark.django_db
def test_page_runs_a_none_shaped_model_at_the_typed_shape_and_says_so(client, participant, host_cpu, corpus):
    data = {"device": "host-cpu", "accelerator": "xnnpack", "threads": 1, "warmup_runs": 1, "timed_runs": 5}
    model = corpus["dynamic_image_denoising"]
    response = client.post("/evaluation/check-runtime/", {**data, "model": upload(model)})
    errors = text_of(response.content.decode(), 'data-testid="form-errors"')
    assert "Input 0 is float32 1×?×?×3: its free dimensions need a size." in errors
    response = client.post(
        "/evaluation/check-runtime/", {**data, "input_shape": "1×480×720×3", "model": upload(model)}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert text_of(page, 'data-testid="input-shape"') == "1×480×720×3"
    assert text_of(page, 'data-testid="declared-input-0"') == "1×?×?×3"
    response = client.post(
        "/evaluation/check-runtime/", {**data, "input_shape": "big", "model": upload(model)}
    )
    assert response.status_code == 400 and "“big” is not a shape." in response.content.decode()


@pytest.mark.django_db
def test_api_takes_a_shape_and_reports_the_shape_that_ran(host_cpu, make_user, corpus):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(make_user())
    fields = {"device": "host-cpu", "accelerator": "xnnpack", "input_shape": "1x180x320x3"}
    response = api.post(
        "/api/evaluation/jobs/", {**fields, "model": upload(corpus["dynamic_video_sr"])}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["input_shape"] == "1×180×320×3"
    assert response.json()["input_shapes"] == [[1, 180, 320, 3]]
    response = api.post(
        "/api/evaluation/jobs/",
        {**fields, "accelerator": "nnapi", "model": upload(corpus["dynamic_video_sr"])},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        f"{RuntimeJob.objects.get().device.name} has no NNAPI accelerator; it offers CPU, CPU (XNNPACK)."
    ]


def test_final_phase_refusal_of_a_dynamic_batch_says_how_to_fix(corpus):
    info = inspect_model(corpus["keras_default_float"].read_bytes())
    contract = {"inputs": [{"shape": [1, 32, 32, 3], "dtype": "float32"}], "allow_dynamic": False}
    (message,) = validate_against_contract(info, contract)
    assert message.startswith(
        "Input 0 is float32 ?×32×32×3; this track expects float32 1×32×32×3. Export it with batch size 1: "
        "keras.Input(shape=(32, 32, 3), batch_size=1) before converting, or model.export(path, "
        "input_signature=[tf.TensorSpec([1, 32, 32, 3], tf.float32)]) then "
        "tf.lite.TFLiteConverter.from_saved_model(path);"
    )


@pytest.mark.django_db
def test_host_cpu_says_which_target_it_stands_in_for(host_cpu):
    from challenges.finalphase.selectors import measured_on_label
    from challenges.models import Challenge

    track = Challenge(title="Scene detection", target_platform="Apple A11 / any phone NPU")
    assert (
        measured_on_label(challenge=track, device=host_cpu) == f"{host_cpu.name}, standing in for Apple A11"
    )
    host_cpu.transport = "adb"
    assert measured_on_label(challenge=track, device=host_cpu) == host_cpu.name


@pytest.mark.django_db(transaction=True)
def test_device_worker_survives_the_corpus_and_runs_at_the_shapes(
    registered, device_worker, make_user, corpus
):
    """Every accepted file of the corpus that is cheap to run goes through a real device worker process;
    the refused ones are refused at upload. The worker process is the same, alive, at the end."""
    from tests.conftest import wait_for

    owner = make_user()
    pid = device_worker.pid
    jobs = {}
    for name, (hints, _shape, reason) in CORPUS.items():
        if name in ("deep_480x720", "dynamic_learned_isp", "mobilenet_v2_dynamic"):
            continue  # slow to run on a 2-core machine; their intake is tested above
        options = {"timed_runs": 2, "input_shape": "x".join(map(str, hints[0])) if hints else ""}
        if reason:
            with pytest.raises(services.RuntimeJobRefused):
                services.runtime_job_create(
                    owner=owner,
                    model_file=upload(corpus[name]),
                    device="host-cpu",
                    accelerator="xnnpack",
                    options=options,
                    check_rate=False,
                )
            continue
        jobs[name] = services.runtime_job_create(
            owner=owner,
            model_file=upload(corpus[name]),
            device="host-cpu",
            accelerator="xnnpack",
            options=options,
            check_rate=False,
        )
    for name, job in jobs.items():
        wait_for(lambda job=job: RuntimeJob.objects.get(pk=job.pk).finished, timeout=120)
        job.refresh_from_db()
        assert job.state == "done", (name, job.error_message)
        assert job.input_shapes == [CORPUS[name][1]]
        assert "x".join(map(str, CORPUS[name][1])) in job.raw_log
    assert device_worker.poll() is None and device_worker.pid == pid


@pytest.mark.django_db
def test_final_phase_page_says_which_device_measures_for_the_target(client, host_cpu, make_user):
    import datetime as dt

    from django.utils import timezone

    from challenges.models import Challenge
    from conference.models import Workshop

    today = timezone.now().date()
    workshop = Workshop.objects.create(
        slug="mai-shapes",
        name="Mobile AI Shapes Workshop",
        short_name="MAI Shapes",
        host_conference="CVPR",
        start_date=today + dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=30),
        time_zone="America/Los_Angeles",
    )
    Challenge.objects.create(
        workshop=workshop,
        slug="scenes",
        title="Camera scene detection",
        target_platform="Apple A11 / any phone NPU",
    )
    client.force_login(make_user())
    page = client.get("/mai-shapes/challenges/scenes/final/").content.decode()
    assert text_of(page, 'data-testid="measured-on"') == f"{host_cpu.name}, standing in for Apple A11"
