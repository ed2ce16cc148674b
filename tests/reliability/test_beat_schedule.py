"""Beat's schedule as beat really loads it: every periodic task of every app is in it, and the real
`celery beat` process sends each of them."""

import json
import re
import subprocess
import sys
import time

from tests.conftest import ROOT

from .procs import RedisServer, log_path, site_env, start_beat, stop

EXPECTED = {
    "common.dispatch_pending",  # the outbox dispatcher
    "reviewing.send_review_reminders",
    "reviewing.sweep_assignment_runs",
    "evaluation.mark_offline_devices",
    "evaluation.recover_stuck_jobs",
    "challenges.requeue_stale_submissions",
    "finalphase.recover_stale_submissions",
    "conference.recheck_stale_papers",
    "cameraready.send_camera_ready_reminders",
    "cameraready.recheck_stale_final_versions",
    "proceedings.sweep_exports",
    "conversion.sweep_stale",
}


def test_a_fresh_interpreter_loads_every_periodic_task(tmp_path):
    code = (
        "import json, django; django.setup()\n"
        "from config.celery import app\n"
        "print(json.dumps({k: [v['task'], v['schedule']] for k, v in app.conf.beat_schedule.items()}))\n"
    )
    env = site_env(
        "redis://127.0.0.1:1/0", {"DJANGO_SETTINGS_MODULE": "config.settings", "BEAT_SWEEP_EVERY_S": "7"}
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    schedule = json.loads(out.stdout.strip().splitlines()[-1])
    assert {task for task, _ in schedule.values()} == EXPECTED
    # Intervals come from the settings (here the environment) at start.
    assert schedule["evaluation-recover-stuck-jobs"] == ["evaluation.recover_stuck_jobs", 7.0]
    assert schedule["common-dispatch-pending"][1] == 1.0


def test_the_beat_process_sends_every_periodic_task(tmp_path):
    redis = RedisServer()
    redis.start()
    beat = start_beat(redis.url, schedule_dir=tmp_path, name="beat-schedule-test", loglevel="DEBUG")
    log = ""
    log_file = log_path("beat-schedule-test")
    try:
        deadline = time.monotonic() + 60
        sent: set[str] = set()
        # Hourly reminders: their entries are checked below.
        wanted = EXPECTED - {"reviewing.send_review_reminders", "cameraready.send_camera_ready_reminders"}
        while time.monotonic() < deadline and not wanted <= sent:
            time.sleep(0.5)
            assert beat.poll() is None, log_file.read_text()
            log = log_file.read_text()
            sent = set(re.findall(r"Sending due task \S+ \(([\w.]+)\)", log))
        schedule_files = list(tmp_path.glob("celerybeat-schedule*"))  # where it was told, while it runs
    finally:
        stop(beat)
        redis.stop()
    assert wanted <= sent, log[-3000:]
    # The hourly reminder is in the schedule beat loaded (listed at start), due later.
    assert re.search(r"<ScheduleEntry: reviewing-reminders reviewing\.send_review_reminders", log), log[:3000]
    assert re.search(
        r"<ScheduleEntry: cameraready-reminders cameraready\.send_camera_ready_reminders", log
    ), log[:3000]
    assert schedule_files
