"""delay() and apply_async(): tasks sent to a worker, their results read back with get().
Celery: docs.celeryq.dev userguide/calling.html#basics."""
# needs: worker
import os

from celery import Celery

app = Celery("basic_delay", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


def main():
    print(add.delay(2, 3).get(timeout=30))
    print(add.apply_async((4, 5)).get(timeout=30))
    print(add.apply_async(kwargs={"x": 1, "y": 1}).get(timeout=30))


if __name__ == "__main__":
    main()
# expect:
# 5
# 9
# 2
