"""Job tasks that exist only for the tests: the real worker loads them with
`--include`, so the job machinery is tested without any hypervisor."""

import time

from core.jobs import JobRun, job_task

STEPS = ["Prepare", "Copy", "Finish"]
UNLOCKED_MARK = "unlocked by on_failure: "


@job_task(name="test.three_steps")
def three_steps(run: JobRun, pause: float = 0.05) -> None:
    for name in STEPS:
        with run.step(name):
            for percent in (50, 100):
                time.sleep(pause)
                run.step_progress(name, percent)


def _unlock(run: JobRun, message: str) -> None:
    run.job.target_name = UNLOCKED_MARK + message
    run.job.save(update_fields=["target_name"])


@job_task(name="test.fails", on_failure=_unlock)
def fails(run: JobRun) -> None:
    with run.step("Prepare"):
        pass
    with run.step("Copy"):
        raise RuntimeError("the disk is on fire")


# Routed to its own queue (tests/settings.py), so that only the worker a test
# means to kill takes it.
SLEEPS_QUEUE = "tests-sleeps"


@job_task(name="test.sleeps", on_failure=_unlock)
def sleeps(run: JobRun, seconds: float) -> None:
    with run.step("Sleep"):
        time.sleep(seconds)
