"""Writes of the organiser console: a track created and edited (fields, metrics, contract, final-phase
formula and device), its contract read from a reference model, its milestones, data files, and the
irreversible deletions, which need the fingerprint of the confirmation page the organiser saw.

Keyword-only functions; each runs in a transaction and raises `ChallengeError` (a Django
`ValidationError`, one message per problem) when nothing was stored. The reference model is opened only
in the sandbox, through `evaluation.tflite.inspect_model`.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from evaluation import selectors as evaluation_selectors
from evaluation.tflite import ModelRejected, format_shape, inspect_model

from .. import scoring
from ..finalphase.services.base import FinalPhaseRefused
from ..finalphase.services.scores import final_settings_get, final_settings_update
from ..models import Challenge, DataFile, Milestone, Submission
from ..services.base import ChallengeError
from ..services.submissions import submissions_rescore
from . import milestones as milestone_rules
from . import selectors

TRACK_FIELDS = {
    "title",
    "summary",
    "description",
    "target_platform",
    "terms",
    "result_format",
    "per_file_scores",
    "score_formula",
    "requires_approval",
    "max_team_size",
    "submissions_per_day",
    "submissions_total",
    "leaderboard_policy",
    "grace_minutes",
    "max_upload_mb",
    "order",
}
CONTRACT_FIELDS = {
    "input_shape",
    "input_dtype",
    "output_shape",
    "output_dtype",
    "value_range_min",
    "value_range_max",
    "int8_required",
}


def _check_metrics(metrics: list[dict], result_format: str) -> list[dict]:
    produced = scoring.METRIC_KEYS.get(result_format, ())
    problems, seen, clean = [], set(), []
    for metric in metrics:
        key = (metric.get("key") or "").strip()
        if key in seen:
            problems.append(f"The metric {key} is listed twice.")
            continue
        seen.add(key)
        if key not in produced:
            problems.append(
                f"The scorer of these results does not compute “{key}”; use one of: {', '.join(produced)}."
            )
            continue
        precision = int(metric.get("precision", 4))
        if not 0 <= precision <= 8:
            problems.append(f"The precision of {key} must be between 0 and 8 decimals.")
            continue
        clean.append(
            {
                "key": key,
                "label": (metric.get("label") or key).strip()[:40],
                "higher_is_better": bool(metric.get("higher_is_better")),
                "precision": precision,
            }
        )
    if not clean and not problems:
        problems.append("Give at least one metric: the first one ranks the leaderboard.")
    if problems:
        raise ChallengeError(problems)
    return clean


def _save(challenge: Challenge) -> Challenge:
    try:
        challenge.full_clean(exclude=["organisers"])
    except ValidationError as exc:
        raise ChallengeError(
            [f"{name}: {m}" if name != "__all__" else m for name, ms in exc.message_dict.items() for m in ms]
        ) from None
    try:
        with transaction.atomic():
            challenge.save()
    except IntegrityError:
        raise ChallengeError("Another track of this edition already has this address (slug).") from None
    return challenge


# Fixed pages under /<workshop>/challenges/ that a track's address would hide (challenges/urls.py).
RESERVED_TRACK_SLUGS = frozenset({"new"})


@transaction.atomic
def track_create(*, workshop, by, title: str, slug: str = "", **fields) -> Challenge:
    """A new track of `workshop`; `by` becomes one of its organisers. Milestones and data come later
    (a track without milestones opens nothing)."""
    slug = slugify(slug or title)[:50]
    if not slug:
        raise ChallengeError("Give the track a title.")
    if slug in RESERVED_TRACK_SLUGS:
        raise ChallengeError(f"The address “{slug}” is one of the site's own pages; choose another.")
    if selectors.track_slug_taken(workshop=workshop, slug=slug):
        raise ChallengeError(f"Another track of this edition already has the address “{slug}”.")
    challenge = Challenge(workshop=workshop, slug=slug, title=title.strip())
    challenge.order = selectors.next_track_order(workshop=workshop)
    unknown = set(fields) - TRACK_FIELDS - {"metrics"}
    if unknown:
        raise ChallengeError(f"Unknown track fields: {', '.join(sorted(unknown))}.")
    metrics = fields.pop("metrics", None)
    for name, value in fields.items():
        setattr(challenge, name, value)
    if metrics is not None:
        challenge.metrics = _check_metrics(metrics, challenge.result_format)
    else:
        challenge.metrics = [
            {
                "key": k,
                "label": k.upper(),
                "higher_is_better": k not in ("si_rmse", "rmse", "log10", "rel"),
                "precision": 4,
            }
            for k in scoring.METRIC_KEYS[challenge.result_format][:2]
        ]
    _save(challenge)
    challenge.organisers.add(by)
    final_settings_get(challenge=challenge)
    return challenge


@transaction.atomic
def track_update(*, challenge: Challenge, metrics: list[dict] | None = None, **fields) -> Challenge:
    """Saves the track's own fields (and its metrics, checked against what its scorer computes)."""
    unknown = set(fields) - TRACK_FIELDS
    if unknown:
        raise ChallengeError(f"Unknown track fields: {', '.join(sorted(unknown))}.")
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    for name, value in fields.items():
        setattr(challenge, name, value)
    if metrics is not None:
        challenge.metrics = _check_metrics(metrics, challenge.result_format)
    return _save(challenge)


@transaction.atomic
def track_scoring_set(
    *, challenge: Challenge, score_formula: str, constants: dict, device_slug: str, accelerator: str
) -> None:
    """The final phase's score formula and constants (checked, every score recomputed) and the device
    and accelerator that measure runtime (the accelerator must be one the device offers)."""
    device = evaluation_selectors.device_get(slug=device_slug)
    if device is None:
        # A target set before its device host first registered (the demo's host-cpu, say) may stay as
        # it is, so the formula can be changed meanwhile; a new choice must be a registered device.
        current = selectors.final_settings(challenge=challenge)
        if (device_slug, accelerator) != (current.device_slug, current.accelerator):
            raise ChallengeError(
                f"No device “{device_slug}” is registered: choose a registered device, or keep the "
                "current target until its host registers."
            )
    elif accelerator not in (device.accelerators or []):
        offered = ", ".join(device.accelerators or []) or "none"
        raise ChallengeError(f"{device.name} offers {offered}, not {accelerator}.")
    try:
        final_settings_update(
            challenge=challenge,
            score_formula=score_formula,
            constants=constants,
            device_slug=device_slug,
            accelerator=accelerator,
        )
    except FinalPhaseRefused as exc:
        raise ChallengeError([f"Score formula: {m}" for m in exc.messages]) from None


@transaction.atomic
def track_contract_set(*, challenge: Challenge, **contract) -> Challenge:
    """The model contract: shapes (lists of positive integers), dtypes, input value range, INT8."""
    unknown = set(contract) - CONTRACT_FIELDS
    if unknown:
        raise ChallengeError(f"Unknown contract fields: {', '.join(sorted(unknown))}.")
    problems = []
    for name in ("input_shape", "output_shape"):
        shape = contract.get(name)
        if shape is not None and not (
            isinstance(shape, list) and all(isinstance(d, int) and d > 0 for d in shape)
        ):
            problems.append(f"The {name.replace('_', ' ')} must be whole numbers of at least 1.")
    low, high = contract.get("value_range_min"), contract.get("value_range_max")
    if low is not None and high is not None and low >= high:
        problems.append(f"The value range is empty: {low:g} is not below {high:g}.")
    if contract.get("int8_required") and (
        contract.get("input_dtype") not in ("uint8", "int8", None)
        or contract.get("output_dtype") not in ("uint8", "int8", None)
    ):
        problems.append("An INT8 track takes and gives uint8 or int8 tensors: change the dtypes.")
    if problems:
        raise ChallengeError(problems)
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    for name, value in contract.items():
        setattr(challenge, name, value)
    return _save(challenge)


@dataclass
class ReferenceContract:
    """The contract read from a reference model, ready to fill the contract form, with notes for the
    organiser (a dynamic batch taken as 1; free dimensions to size by hand)."""

    values: dict
    notes: list[str] = field(default_factory=list)
    free_dimensions: bool = False


def contract_from_reference_model(*, data: bytes) -> ReferenceContract:
    """Reads a .tflite's first input and output in the sandbox (`inspect_model`; the web process never
    opens it) and returns its contract: shapes, dtypes, the real input range of a quantised input, and
    INT8 required when the model is full-integer. Raises `ChallengeError` with intake's reason."""
    try:
        info = inspect_model(data, time_limit_s=30, memory_limit_mb=1024)
    except ModelRejected as exc:
        raise ChallengeError(f"The reference model was refused: {exc.message}") from None
    if not info.inputs or not info.outputs:
        raise ChallengeError("The reference model has no input or no output.")
    notes, free = [], False

    def shape_of(tensor, role: str) -> list[int | None]:
        nonlocal free
        signature = list(tensor.shape_signature or tensor.shape)
        dims = []
        for position, dim in enumerate(signature):
            if dim >= 1:
                dims.append(int(dim))
            elif position == 0:
                dims.append(1)
                notes.append(f"The {role}'s batch dimension is dynamic (a Keras default export): taken as 1.")
            else:
                dims.append(None)
                free = True
        return dims

    first_in, first_out = info.inputs[0], info.outputs[0]
    values = {
        "input_shape": shape_of(first_in, "input"),
        "input_dtype": first_in.dtype,
        "output_shape": shape_of(first_out, "output"),
        "output_dtype": first_out.dtype,
        "int8_required": info.is_full_integer,
    }
    real = first_in.real_range()
    if real is not None:
        values["value_range_min"], values["value_range_max"] = round(real[0], 4), round(real[1], 4)
        notes.append(f"Input range read from the input's quantisation: {real[0]:g} to {real[1]:g}.")
    if free:
        notes.append(
            f"The model leaves some sizes free ({format_shape(first_in.shape_signature)}): type the size "
            "the track measures at in place of each “?”."
        )
    if len(info.inputs) > 1 or len(info.outputs) > 1:
        notes.append("The model has several inputs or outputs: the contract takes the first of each.")
    notes.append(f"Read from a {info.kind} model of {info.size_bytes:,} bytes.")
    return ReferenceContract(values=values, notes=notes, free_dimensions=free)


def milestones_check(*, challenge: Challenge, values: dict[str, dt.datetime | None]) -> None:
    """Raises `ChallengeError` (every problem, in words) unless these values, merged into the track's
    milestones, give a timeline in order; checked before a move is offered for confirmation too."""
    for kind, at in values.items():
        if kind not in Milestone.Kind.values:
            raise ChallengeError(f"Unknown milestone “{kind}”.")
        if at is not None and (at.tzinfo is None or at.utcoffset() is None):
            raise ChallengeError("Give each milestone with its time zone.")
    merged = {**selectors.milestones_of(challenge=challenge), **values}
    errors = milestone_rules.order_errors(
        {k: v for k, v in merged.items() if v is not None},
        label=selectors.milestone_label,
        show=lambda at: selectors.in_workshop_zone(at, challenge.workshop),
    )
    if errors:
        raise ChallengeError(list(errors.values()))


@transaction.atomic
def milestones_set(
    *,
    challenge: Challenge,
    values: dict[str, dt.datetime | None],
    by=None,
    confirmed_fingerprint: str | None = None,
) -> list[str]:
    """Sets, moves or clears (None) milestones; the resulting timeline must keep the milestones' order.
    Returns the kinds that changed. Naive datetimes are refused (the form gives the workshop's zone).

    A milestone is published once set (the track's page shows it): moving or removing one needs the
    fingerprint of the milestones the organiser confirmed the change on (`selectors.milestones_fingerprint`,
    shown on the confirmation page; refused if someone changed them meanwhile), and each such change is
    written to the edition's date log (`console.DateChangeLog`, which the chairs read) with who did it.
    Adding a milestone needs no confirmation."""
    current = {m.kind: m for m in Milestone.objects.select_for_update().filter(challenge=challenge)}
    milestones_check(challenge=challenge, values=values)
    moves = selectors.milestone_moves(challenge=challenge, values=values)
    if moves and confirmed_fingerprint is None:
        raise ChallengeError("Moving or removing a published milestone needs your confirmation.")
    if moves and confirmed_fingerprint != selectors.milestones_fingerprint(challenge=challenge):
        raise ChallengeError(
            "The milestones were changed by someone else since you made this change: check them again."
        )
    _log_moves(challenge=challenge, moves=moves, by=by)
    changed = []
    for kind, at in values.items():
        existing = current.get(kind)
        if at is None:
            if existing is not None:
                existing.delete()
                changed.append(kind)
        elif existing is None:
            Milestone.objects.create(challenge=challenge, kind=kind, at=at)
            changed.append(kind)
        elif existing.at != at:
            existing.at = at
            existing.save(update_fields=["at"])
            changed.append(kind)
    return changed


def _log_moves(*, challenge: Challenge, moves: list, by) -> None:
    """Each move in the edition's date log, named after the track (the chairs' dates page lists it)."""
    from console.models import DateChangeLog  # the chair side's log; imported here, not at load time

    DateChangeLog.objects.bulk_create(
        DateChangeLog(
            workshop=challenge.workshop,
            important_date=None,
            title=f"{challenge.title}: {move.label}"[:200],
            old_at=move.old,
            new_at=move.new,
            changed_by=by if by is not None and by.is_authenticated else None,
        )
        for move in moves
    )


@transaction.atomic
def data_file_delete(*, data_file: DataFile, fingerprint: str) -> None:
    """Deletes a data file and its stored bytes, if the confirmation page the organiser saw still
    describes it (`selectors.data_file_deletion`)."""
    seen = selectors.data_file_deletion(data_file=data_file)
    if seen.fingerprint != fingerprint:
        raise ChallengeError("The file changed since the confirmation page was shown: review it again.")
    stored = data_file.file.name if data_file.file else ""
    storage = data_file.file.storage if data_file.file else None
    data_file.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))


@transaction.atomic
def track_delete(*, challenge: Challenge, fingerprint: str) -> None:
    """Deletes a track nobody has taken part in yet (no team, no submission), with its milestones,
    registrations and data files, if the confirmation page the organiser saw is still true."""
    seen = selectors.track_deletion(challenge=challenge)
    if seen.blocked:
        raise ChallengeError(seen.blocked)
    if seen.fingerprint != fingerprint:
        raise ChallengeError("The track changed since the confirmation page was shown: review it again.")
    stored = [(f.file.storage, f.file.name) for f in challenge.data_files.all() if f.file]
    try:
        challenge.delete()
    except ProtectedError:
        raise ChallengeError("Something new refers to this track: review the confirmation again.") from None
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in stored])


def failed_submissions_rescore(*, challenge: Challenge) -> int:
    """The way out of "failed" for a track's validation submissions (e.g. the ground truth was missing
    or wrong and has been replaced): every failed one is queued and scored again, through the outbox.
    Returns how many. Final-phase models that failed are not re-run: teams submit again (failed ones
    do not count against their limit)."""
    failed = Submission.objects.filter(challenge=challenge, status=Submission.Status.FAILED)
    return submissions_rescore(submission_ids=list(failed.values_list("pk", flat=True)))
