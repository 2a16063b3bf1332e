"""A task that waits for another task's result: Celery refuses it inside a task, at once
(RuntimeError "Never call result.get() within a task!"), rather than let a worker wait on
itself. Celery: docs.celeryq.dev userguide/tasks.html#avoid-launching-synchronous-subtasks."""
# needs: worker
# pool: prefork
# timeout: 60
import os

from celery import Celery

app = Celery("sync_subtask", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


@app.task
def waits(x):
    return add.delay(x, 1).get(timeout=10)


def main():
    try:
        waits.delay(1).get(timeout=30)
    except RuntimeError as exc:
        print("raised", type(exc).__name__, str(exc).splitlines()[0])
    print(add.delay(2, 2).get(timeout=30))  # outside a task: waits as ever


if __name__ == "__main__":
    main()
# expect:
# raised RuntimeError Never call result.get() within a task!
# 4
