# The course's "Nested flows" example, with only its import line changed (and two OCR slips
# of the course text mended: the emoji prefixes and `animal facts()` / `if name == " main "`).
import httpx
from tasks_core import flow


@flow
def fetch_cat_fact():
    return httpx.get("https://catfact.ninja/fact?max_length=140").json()["fact"]


@flow
def fetch_dog_fact():
    return httpx.get(
        "https://dogapi.dog/api/v2/facts",
        headers={"accept": "application/json"},
    ).json()["data"][0]["attributes"]["body"]


@flow(log_prints=True)
def animal_facts():
    cat_fact = fetch_cat_fact()
    dog_fact = fetch_dog_fact()
    print(f"cat: {cat_fact} \ndog: {dog_fact}")


if __name__ == "__main__":
    animal_facts()
