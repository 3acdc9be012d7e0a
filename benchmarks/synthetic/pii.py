"""Synthetic personal data and secrets: plausible, checksum-valid where real ones are, JSON-safe.

Every value is printable ASCII without quotes, backslashes or control characters, so it shows up
verbatim in any JSON line (however nested or re-encoded as a JSON string) and the truth can be
checked by plain substring search. Values are made lazily, per persona field, only when a text
template or tool payload asks for one.
"""

from __future__ import annotations

import base64
import random
import string

PERSON = "PERSON"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
PHONE_NUMBER = "PHONE_NUMBER"
STREET_ADDRESS = "STREET_ADDRESS"
CREDIT_CARD = "CREDIT_CARD"
IBAN_CODE = "IBAN_CODE"
US_SSN = "US_SSN"
IP_ADDRESS = "IP_ADDRESS"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
API_KEY = "API_KEY"
BEARER_TOKEN = "BEARER_TOKEN"
PASSWORD = "PASSWORD"
ENTITY_TYPES = (
    PERSON, EMAIL_ADDRESS, PHONE_NUMBER, STREET_ADDRESS, CREDIT_CARD, IBAN_CODE, US_SSN,
    IP_ADDRESS, DATE_OF_BIRTH, API_KEY, BEARER_TOKEN, PASSWORD,
)

# Where a value was planted (_truth/pii.jsonl `location`).
LOCATIONS = (
    "system_prompt", "input", "context", "step_content", "reasoning", "tool_arguments",
    "tool_result", "final_output",
)

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "William",
    "Elizabeth", "Daniel", "Susan", "Matthew", "Jessica", "Anthony", "Sarah", "Mark", "Karen",
    "Priya", "Arjun", "Wei", "Mei", "Hiroshi", "Yuki", "Carlos", "Lucia", "Mateo", "Sofia",
    "Lukas", "Anna", "Jonas", "Lena", "Pierre", "Camille", "Louis", "Chloe", "Ahmed", "Fatima",
    "Olga", "Dmitri", "Kwame", "Amara", "Sean", "Siobhan", "Lars", "Ingrid", "Giulia", "Marco",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Patel", "Sharma", "Chen", "Wang", "Tanaka", "Sato", "Muller",
    "Schmidt", "Schneider", "Fischer", "Weber", "Dubois", "Moreau", "Laurent", "Bernard",
    "Rossi", "Russo", "Fernandez", "Gonzalez", "Okafor", "Mensah", "Ivanova", "Petrov",
    "OBrien", "Murphy", "Larsen", "Nilsson", "Kowalski", "Novak", "Haddad",
)
EMAIL_DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.de", "orange.fr",
    "acme-corp.com", "globex.io", "initech.net", "example.org", "hey.com",
)
US_STREETS = (
    "Oak Street", "Maple Avenue", "Pine Road", "Cedar Lane", "Elm Street", "Washington Blvd",
    "Lakeview Drive", "Sunset Boulevard", "Park Avenue", "Hillcrest Road", "Mission Street",
)
US_CITIES = (
    ("Springfield", "IL", "627"), ("Austin", "TX", "787"), ("Portland", "OR", "972"),
    ("Denver", "CO", "802"), ("Columbus", "OH", "432"), ("Seattle", "WA", "981"),
    ("Boston", "MA", "021"), ("San Jose", "CA", "951"), ("Atlanta", "GA", "303"),
)
EU_ADDRESSES = (
    ("{n} Hauptstrasse", "{z} Berlin", "10"), ("{n} Bahnhofstrasse", "{z} Muenchen", "80"),
    ("{n} Gartenweg", "{z} Hamburg", "20"), ("{n} rue de Rivoli", "{z} Paris", "75"),
    ("{n} avenue Victor Hugo", "{z} Lyon", "69"), ("{n} Calle Mayor", "{z} Madrid", "28"),
    ("{n} Carrer de Balmes", "{z} Barcelona", "08"), ("{n} Baker Street", "London NW1 {z}", ""),
)
US_AREA_CODES = ("212", "310", "312", "415", "503", "512", "617", "646", "702", "206", "404", "720")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
PASSWORD_WORDS = ("Summer", "Winter", "Tiger", "Falcon", "Orchid", "Rocket", "Copper", "Maple", "Nebula", "Quartz")
DB_USERS = ("admin", "app", "etl_user", "reporting", "svc_orders", "postgres", "analytics")
DB_HOSTS = ("db.internal", "pg-prod-01.acme.local", "orders-db.cluster-x1.eu-west-1.rds.amazonaws.com", "10.20.3.14", "warehouse.globex.io")
DB_NAMES = ("orders", "billing", "crm", "analytics", "inventory", "users")

_ALNUM = string.ascii_letters + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits
_B64URL = string.ascii_letters + string.digits + "-_"


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randrange(10**n)).zfill(n)


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial + digit` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def credit_card(rng: random.Random) -> str:
    prefix, length = rng.choice((("4", 16), ("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16)))
    partial = prefix + _digits(rng, length - len(prefix) - 1)
    number = partial + luhn_check_digit(partial)
    style = rng.random()
    if style < 0.5:
        return number
    sep = " " if style < 0.8 else "-"
    if length == 15:
        return sep.join((number[:4], number[4:10], number[10:]))
    return sep.join(number[i:i + 4] for i in range(0, 16, 4))


# country -> BBAN layout: (kind, length) with kind d = digits, A = upper letters.
_IBAN_LAYOUTS = {
    "DE": (("d", 18),),
    "FR": (("d", 10), ("d", 11), ("d", 2)),
    "ES": (("d", 20),),
    "NL": (("A", 4), ("d", 10)),
    "GB": (("A", 4), ("d", 14)),
    "IT": (("A", 1), ("d", 10), ("d", 12)),
}


def iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def iban_valid(value: str) -> bool:
    compact = value.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def iban(rng: random.Random) -> str:
    country = rng.choice(tuple(_IBAN_LAYOUTS))
    bban = "".join(
        _digits(rng, n) if kind == "d" else "".join(rng.choice(string.ascii_uppercase) for _ in range(n))
        for kind, n in _IBAN_LAYOUTS[country]
    )
    compact = country + iban_check_digits(country, bban) + bban
    if rng.random() < 0.5:
        return compact
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


_SSN_AREAS = tuple(a for a in range(101, 900) if a % 111)  # never 000, 666 or 9xx; no 111, 222 ...


def us_ssn(rng: random.Random) -> str:
    area = rng.choice(_SSN_AREAS)
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def phone_number(rng: random.Random) -> str:
    style = rng.randrange(7)
    if style <= 3:
        area = rng.choice(US_AREA_CODES)
        exchange = rng.randrange(201, 999)
        line = _digits(rng, 4)
        return (
            f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"+1 {area} {exchange} {line}",
            f"{area}.{exchange}.{line}",
        )[style]
    if style == 4:
        return f"+44 20 7{_digits(rng, 3)} {_digits(rng, 4)}"
    if style == 5:
        return f"+49 30 {rng.randrange(2, 10)}{_digits(rng, 7)}"
    return f"+33 6 {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)}"


def email(rng: random.Random, first: str, last: str) -> str:
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randrange(10, 99)}", f"{last}.{first}"))
    return f"{local.lower()}@{rng.choice(EMAIL_DOMAINS)}"


def street_address(rng: random.Random) -> str:
    if rng.random() < 0.6:
        city, state, zip3 = rng.choice(US_CITIES)
        return f"{rng.randrange(10, 9999)} {rng.choice(US_STREETS)}, {city}, {state} {zip3}{_digits(rng, 2)}"
    street, town, zip_prefix = rng.choice(EU_ADDRESSES)
    z = f"{zip_prefix}{_digits(rng, 3)}" if zip_prefix else f"{rng.randrange(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTU')}"
    return f"{street.format(n=rng.randrange(1, 180))}, {town.format(z=z)}"


def ip_address(rng: random.Random) -> str:
    if rng.random() < 0.85:
        first = rng.choice((23, 34, 52, 81, 88, 91, 104, 142, 151, 172, 185, 203, 212))
        return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return "2001:db8:" + ":".join(f"{rng.randrange(65536):x}" for _ in range(6))


def date_of_birth(rng: random.Random) -> str:
    year, month, day = rng.randrange(1940, 2005), rng.randrange(1, 13), rng.randrange(1, 29)
    return (
        f"{year}-{month:02d}-{day:02d}", f"{month:02d}/{day:02d}/{year}", f"{day} {MONTHS[month - 1]} {year}",
        f"{day:02d}.{month:02d}.{year}",
    )[rng.randrange(4)]


def api_key(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return "AKIA" + "".join(rng.choices(_UPPER_ALNUM, k=16))
    if kind == 1:
        return "sk-" + "".join(rng.choices(_ALNUM, k=48))
    if kind == 2:
        return "sk-proj-" + "".join(rng.choices(_ALNUM, k=40))
    if kind == 3:
        return "ghp_" + "".join(rng.choices(_ALNUM, k=36))
    return f"xoxb-{_digits(rng, 11)}-{_digits(rng, 13)}-" + "".join(rng.choices(_ALNUM, k=24))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def bearer_token(rng: random.Random) -> str:
    """A JWT (header.payload.signature, base64url) most of the time, else an opaque token."""
    if rng.random() < 0.8:
        header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
        payload = _b64url(
            ('{"sub":"%d","iat":%d,"scope":"read write"}' % (rng.randrange(10**6), 1_790_000_000 + rng.randrange(10**7))).encode()
        )
        return f"{header}.{payload}.{''.join(rng.choices(_B64URL, k=43))}"
    return "".join(rng.choices(_ALNUM, k=40))


def password(rng: random.Random) -> str:
    return f"{rng.choice(PASSWORD_WORDS)}{rng.randrange(10, 9999)}{rng.choice('!#%*-_+')}{''.join(rng.choices(_ALNUM, k=4))}"


class Persona:
    """One customer's personal data and one system's secrets, each made on first use."""

    __slots__ = ("_rng", "_values")

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._values: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        value = self._values.get(key)
        if value is None:
            value = self._make(key)
            self._values[key] = value
        return value

    def _make(self, key: str) -> str:
        rng = self._rng
        if key == "first":
            return rng.choice(FIRST_NAMES)
        if key == "last":
            return rng.choice(LAST_NAMES)
        if key == "name":
            return f"{self['first']} {self['last']}"
        if key == "email":
            return email(rng, self["first"], self["last"])
        return _MAKERS[key](rng)


_MAKERS = {
    "phone": phone_number,
    "address": street_address,
    "card": credit_card,
    "iban": iban,
    "ssn": us_ssn,
    "ip": ip_address,
    "dob": date_of_birth,
    "api_key": api_key,
    "token": bearer_token,
    "password": password,
}

# Template placeholder -> entity type. `first` is part of a name; it is recorded as PERSON too.
PII_FIELDS: dict[str, str] = {
    "name": PERSON,
    "first": PERSON,
    "email": EMAIL_ADDRESS,
    "phone": PHONE_NUMBER,
    "address": STREET_ADDRESS,
    "card": CREDIT_CARD,
    "iban": IBAN_CODE,
    "ssn": US_SSN,
    "ip": IP_ADDRESS,
    "dob": DATE_OF_BIRTH,
    "api_key": API_KEY,
    "token": BEARER_TOKEN,
    "password": PASSWORD,
}
