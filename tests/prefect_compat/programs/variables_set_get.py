"""Variables: set, get (with a default), set on an existing name (a ValueError unless
overwrite=True), unset. Prefect: docs.prefect.io/v3/how-to-guides/configuration/variables,
docs.prefect.io/v3/api-ref/python/prefect-variables."""
from prefect.variables import Variable

if __name__ == "__main__":
    Variable.set("answer", 42)
    print(Variable.get("answer"))
    print(Variable.get("missing", default="fallback"))
    try:
        Variable.set("answer", 43)
    except ValueError:
        print("ValueError")
    Variable.set("answer", {"x": [1, 2], "ok": True}, overwrite=True)
    print(Variable.get("answer"))
    print(Variable.unset("answer"))
    print(Variable.get("answer"))
# expect:
# 42
# fallback
# ValueError
# {'x': [1, 2], 'ok': True}
# True
# None
