"""A small synthetic caseload for the review service's tests (invented names only).

Families of separated children registered as cases by agency A, sought by
tracing requests at agency B (spelled differently, year of birth only), and a
few children registered twice (duplicates across agencies).
"""

from __future__ import annotations

import random
from typing import Any

FIRST_F = [
    "Amina",
    "Fatima",
    "Khadija",
    "Layla",
    "Maryam",
    "Zainab",
    "Halima",
    "Safiya",
    "Hawa",
    "Nasra",
]
FIRST_M = ["Hassan", "Omar", "Yusuf", "Ibrahim", "Ali", "Musa", "Idris", "Bilal", "Abdi", "Salim"]
LAST = [
    "Abdullahi",
    "Mohamed",
    "Hussein",
    "Ahmed",
    "Farah",
    "Warsame",
    "Osman",
    "Jama",
    "Ismail",
    "Nur",
    "Aden",
    "Hirsi",
]
PLACES = ["Baidoa", "Kismayo", "Dollow", "Garowe", "Beledweyne", "Galkayo"]
VARIANTS = {
    "Mohamed": "Mohammed",
    "Hussein": "Husein",
    "Khadija": "Kadija",
    "Yusuf": "Yusuuf",
    "Osman": "Othman",
}


def caseload(n_children: int = 90, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n_children):
        sex = rng.choice(["female", "male"])
        first = rng.choice(FIRST_F if sex == "female" else FIRST_M)
        last = rng.choice(LAST)
        mother = f"{rng.choice(FIRST_F)} {rng.choice(LAST)}"
        father = f"{rng.choice(FIRST_M)} {last}"
        year = rng.randint(2009, 2021)
        dob = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        place = rng.choice(PLACES)
        rows.append(
            {
                "record_id": f"A-C{i:03d}",
                "record_type": "case",
                "agency": "A",
                "name": f"{first} {last}",
                "sex": sex,
                "date_of_birth": dob,
                "mother_name": mother,
                "father_name": father,
                "location_origin": place,
                "telephone": f"+25261{rng.randint(1000000, 9999999)}",
                "consent_for_tracing": "true",
            }
        )
        if i % 3 == 0:
            rows.append(
                {
                    "record_id": f"B-T{i:03d}",
                    "record_type": "tracing_request",
                    "agency": "B",
                    "name": f"{VARIANTS.get(first, first)} {VARIANTS.get(last, last)}",
                    "sex": sex,
                    "date_of_birth": str(year),
                    "mother_name": mother,
                    "location_origin": place,
                    "inquirer_name": mother,
                    "inquirer_relation": "mother",
                    "consent_for_tracing": "true",
                }
            )
        if i % 10 == 5:
            rows.append(
                {
                    "record_id": f"B-C{i:03d}",
                    "record_type": "case",
                    "agency": "B",
                    "name": f"{first} {VARIANTS.get(last, last)}",
                    "sex": sex,
                    "date_of_birth": dob,
                    "mother_name": mother,
                    "location_origin": place,
                    "consent_for_tracing": "true",
                }
            )
    return rows
