"""Automatic retries: autoretry_for retries only the listed exception types, max_retries
times (retry_kwargs), with an exponential retry_backoff; other exceptions fail at once.
Celery: docs.celeryq.dev userguide/tasks.html#automatic-retry-for-known-exceptions."""
# needs: worker
# timeout: 60
import os

from celery import Celery

app = Celery("autoretry", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task(bind=True, autoretry_for=(ConnectionError,), retry_kwargs={"max_retries": 2},
          default_retry_delay=0.1)
def connect(self):
    if self.request.retries < 2:
        raise ConnectionError("down")
    return f"connected after {self.request.retries} retries"


@app.task(bind=True, autoretry_for=(ConnectionError,), default_retry_delay=0.1)
def wrong_error(self):
    if self.request.retries == 0:  # a retry would succeed: failing shows there was none
        raise KeyError("not a connection error")
    return "retried"


@app.task(autoretry_for=(ConnectionError,), max_retries=1, default_retry_delay=0.1)
def always_down():
    raise ConnectionError("always")


@app.task(bind=True, autoretry_for=(ValueError,), retry_backoff=0.1, retry_jitter=False,
          max_retries=3)
def backing_off(self):
    if self.request.retries < 3:
        raise ValueError("again")
    return f"done after {self.request.retries} retries"


def main():
    print(connect.delay().get(timeout=30))
    print(backing_off.delay().get(timeout=30))
    for task in (wrong_error, always_down):
        try:
            print(task.delay().get(timeout=30))
        except Exception as exc:
            print(task.name, type(exc).__name__)


if __name__ == "__main__":
    main()
# expect:
# connected after 2 retries
# done after 3 retries
# autoretry.wrong_error KeyError
# autoretry.always_down ConnectionError
