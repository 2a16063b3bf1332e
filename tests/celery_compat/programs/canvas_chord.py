"""chord: the callback gets the header's results as a list, once; a failed header task fails
the chord (the callback does not run) and get() re-raises the header task's error.
Celery: docs.celeryq.dev userguide/canvas.html#chords."""
# needs: worker
# timeout: 90
import os

from celery import Celery, chord, group

app = Celery("canvas_chord", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


@app.task
def tsum(numbers):
    return sum(numbers)


@app.task
def listed(values):
    return values


@app.task
def boom(x):
    raise ValueError(f"boom {x}")


def main():
    print(chord(add.s(i, i) for i in range(5))(tsum.s()).get(timeout=30))
    print(chord([add.s(1, 1), add.s(2, 2), add.s(3, 3)], listed.s())().get(timeout=30))
    print((group(add.s(1, 1), add.s(2, 2)) | tsum.s())().get(timeout=30))
    res = chord([add.s(1, 1), boom.s(3)], tsum.s())()
    try:
        res.get(timeout=30)
    except Exception as exc:
        print(type(exc).__name__)
    print(res.parent.get(timeout=30, propagate=False)[0])


if __name__ == "__main__":
    main()
# expect:
# 20
# [2, 4, 6]
# 6
# ValueError
# 2
