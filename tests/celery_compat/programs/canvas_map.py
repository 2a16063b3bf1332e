"""task.map / task.starmap: one task call running over the items; task.chunks: a group of
starmaps over parts. Celery: docs.celeryq.dev userguide/canvas.html#map-starmap."""
# needs: worker
# timeout: 90
import os

from celery import Celery

app = Celery("canvas_map", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


@app.task
def double(x):
    return 2 * x


def main():
    print(double.map([1, 2, 3]).delay().get(timeout=30))
    print(add.starmap([(1, 2), (3, 4)]).delay().get(timeout=30))
    print(add.chunks(zip(range(5), range(5), strict=True), 2)().get(timeout=30))


if __name__ == "__main__":
    main()
# expect:
# [2, 4, 6]
# [3, 7]
# [[0, 2], [4, 6], [8]]
