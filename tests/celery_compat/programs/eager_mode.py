"""task_always_eager: delay()/apply_async() run the task in the caller and return an
EagerResult; task_eager_propagates makes the task's exception raise from the call; apply()
runs locally whatever the setting.
Celery: docs.celeryq.dev userguide/configuration.html#task-always-eager,
userguide/testing.html, reference Task.apply."""
import os

from celery import Celery
from celery.result import EagerResult

app = Celery("eager_mode", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])
app.conf.task_always_eager = True


@app.task
def add(x, y):
    return x + y


@app.task
def fail(text):
    raise KeyError(text)


def main():
    result = add.delay(2, 3)
    print(isinstance(result, EagerResult))
    print(result.get())
    print(result.status, result.successful(), result.ready())
    print(add.apply_async((4, 5), countdown=60).get())  # countdown ignored when eager
    failed = fail.delay("boom")
    print(failed.status, failed.failed())
    print(type(failed.get(propagate=False)).__name__)
    try:
        failed.get()
    except KeyError as exc:
        print("get() re-raised", type(exc).__name__)
    app.conf.task_eager_propagates = True
    try:
        fail.delay("loud")
    except KeyError as exc:
        print("delay() raised", type(exc).__name__)
    app.conf.task_always_eager = False
    print(add.apply((1, 1)).get())


if __name__ == "__main__":
    main()
# expect:
# True
# 5
# SUCCESS True True
# 9
# FAILURE True
# KeyError
# get() re-raised KeyError
# delay() raised KeyError
# 2
