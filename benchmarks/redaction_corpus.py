"""A small, deterministic corpus of silver trajectories with seeded PII and its truth.

Stands in for the synthetic generator (`trajlake generate`) in the redaction tests and benchmark:
every free-text part of a trajectory (system prompt, input, context docs, step content and
reasoning, tool arguments / results / errors as JSON, final output) carries seeded values, and
`truth` lists each as {trajectory_id, entity_type, value, location}, the `_truth/pii.jsonl`
layout. Like production logs it repeats itself: a few long system prompts, tool schemas,
knowledge-base documents and common tool results recur verbatim across trajectories.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "William",
    "Elizabeth", "Daniel", "Susan", "Matthew", "Jessica", "Priya", "Arjun", "Carlos", "Lucia",
    "Sofia", "Lukas", "Anna", "Pierre", "Camille", "Ahmed", "Fatima", "Olga", "Kwame", "Sean",
    "Ingrid", "Marco", "Hannah", "Thomas", "Emily", "Rachel", "Benjamin", "Laura",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Patel", "Sharma", "Chen",
    "Schmidt", "Fischer", "Dubois", "Moreau", "Rossi", "Fernandez", "Gonzalez", "Okafor",
    "Murphy", "Larsen", "Kowalski", "Novak", "Thompson", "Walker", "Harris", "Clarke",
)
DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "acme-corp.com", "globex.io", "example.org")
STREETS = ("Oak Street", "Maple Avenue", "Pine Road", "Cedar Lane", "Elm Street", "Sunset Boulevard", "Lakeview Drive")
CITIES = (("Springfield", "IL", "627"), ("Austin", "TX", "787"), ("Portland", "OR", "972"), ("Denver", "CO", "802"), ("Boston", "MA", "021"))
EU_STREETS = ("{n} Hauptstrasse, 10{z} Berlin", "{n} rue de Rivoli, 75{z} Paris", "{n} Calle Mayor, 28{z} Madrid")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
_ALNUM = string.ascii_letters + string.digits

SYSTEM_PROMPTS = (
    "You are Atlas, the customer support agent of Acme Outfitters. Follow the refund policy: "
    "orders can be returned within 30 days of delivery, items must be unused, and store credit "
    "is offered before a refund to the original payment method. Always verify the customer's "
    "identity with the lookup_customer tool before discussing an order. Never reveal internal "
    "notes. Use the search_kb tool for policy questions and cite the article id. Keep answers "
    "short, friendly and in the customer's language. Escalate to a human when the customer asks "
    "for one, when the order value exceeds 500 dollars, or when fraud is suspected. " * 3,
    "You are a senior platform engineer helping developers debug services in the staging and "
    "production clusters. You can run read-only shell commands with run_shell, query databases "
    "with run_sql, and read files with read_file. Explain what you are doing before each tool "
    "call. Prefer minimal, reversible changes; never print credentials in your answers; redact "
    "secrets you encounter in logs. When a fix requires a deploy, write the exact command and "
    "wait for confirmation. " * 3,
    "You are a travel assistant. Book flights and hotels with the booking tools, compare at "
    "least three options, respect the traveller's loyalty programs and seat preferences, and "
    "confirm every booking with a summary that lists dates, times, prices and cancellation "
    "terms. Ask before charging any card on file. " * 3,
)
TOOLS = (
    {"name": "lookup_customer", "description": "Find a customer by email or phone.", "parameters": json.dumps({"type": "object", "properties": {"email": {"type": "string"}, "phone": {"type": "string"}}})},
    {"name": "search_kb", "description": "Search the knowledge base.", "parameters": json.dumps({"type": "object", "properties": {"query": {"type": "string"}}})},
    {"name": "update_address", "description": "Change a shipping address.", "parameters": json.dumps({"type": "object", "properties": {"customer_id": {"type": "string"}, "address": {"type": "string"}}})},
    {"name": "run_shell", "description": "Run a read-only shell command.", "parameters": json.dumps({"type": "object", "properties": {"cmd": {"type": "string"}}})},
    {"name": "run_sql", "description": "Run a SQL query.", "parameters": json.dumps({"type": "object", "properties": {"dsn": {"type": "string"}, "sql": {"type": "string"}}})},
    {"name": "book_flight", "description": "Book a flight.", "parameters": json.dumps({"type": "object", "properties": {"passenger": {"type": "object"}}})},
)
KB_DOCS = tuple(
    {"doc_id": f"kb-{i}", "source": "kb", "content": text, "score": 0.8}
    for i, text in enumerate(
        (
            "Refunds are issued to the original payment method within 5 to 7 business days after "
            "the returned item is inspected at our warehouse. Store credit is available immediately.",
            "To change a shipping address after an order is placed, the order must not have entered "
            "the fulfilment stage. Address changes for shipped orders require a carrier redirect.",
            "Exchanges are free for size and colour. Final sale items cannot be exchanged or returned.",
            "Connection pool exhaustion usually means long-running transactions or a missing index; "
            "check pg_stat_activity for idle in transaction sessions and raise max_connections only "
            "as a last resort.",
            "Deploys to production go through the release pipeline; hotfixes need two approvals and "
            "a rollback plan attached to the change ticket.",
        )
    )
)
OK_RESULT = json.dumps({"status": "ok", "updated": True})
NO_RESULTS = json.dumps({"results": [], "next_page": None})
FILLER = (
    "Let me look that up for you.",
    "I checked the order history and the warehouse status.",
    "The deployment pipeline finished with 3 warnings and no errors.",
    "Running the migration again should be idempotent because each step checks the schema version first.",
    "The invoice total is 129.90 USD including tax, and the order shipped on 2024-05-14.",
    "I will summarise the options in a table with price, duration and cancellation terms.",
)


@dataclass
class Corpus:
    rows: list[dict]
    truth: list[dict]
    user_ids: list[str]


@dataclass
class _Persona:
    rng: random.Random
    trajectory_id: str
    truth: list[dict]
    values: dict[str, str] = field(default_factory=dict)

    def use(self, key: str, location: str) -> str:
        """The persona's value for key, recorded in the truth at location."""
        value = self.values.get(key) or self.values.setdefault(key, _MAKERS[key](self))
        entity = _TYPES[key]
        self.truth.append({"trajectory_id": self.trajectory_id, "entity_type": entity, "value": value, "location": location})
        return value


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _luhn(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return partial + str((10 - total % 10) % 10)


def _card(p: _Persona) -> str:
    prefix = p.rng.choice(("4", "51", "55", "2221"))
    number = _luhn(prefix + _digits(p.rng, 15 - len(prefix)))
    return " ".join(number[i : i + 4] for i in range(0, 16, 4)) if p.rng.random() < 0.5 else number


def _iban(p: _Persona) -> str:
    bban = "WEST" + _digits(p.rng, 14)
    numeric = "".join(str(int(ch, 36)) for ch in bban + "GB00")
    return f"GB{98 - int(numeric) % 97:02d}{bban}"


def _ssn(p: _Persona) -> str:
    area = p.rng.choice([a for a in range(101, 660) if a % 111])
    return f"{area:03d}-{p.rng.randrange(1, 100):02d}-{p.rng.randrange(1, 10000):04d}"


def _phone(p: _Persona) -> str:
    rng = p.rng
    area, exchange, line = rng.choice(("212", "415", "312", "617")), rng.randrange(201, 999), _digits(rng, 4)
    return rng.choice(
        (f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"+1 {area} {exchange} {line}",
         f"+44 20 7{_digits(rng, 3)} {_digits(rng, 4)}", f"+49 30 {_digits(rng, 8)}", f"+33 6 {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)}")
    )


def _address(p: _Persona) -> str:
    rng = p.rng
    if rng.random() < 0.7:
        city, state, zip3 = rng.choice(CITIES)
        return f"{rng.randrange(10, 9999)} {rng.choice(STREETS)}, {city}, {state} {zip3}{_digits(rng, 2)}"
    return rng.choice(EU_STREETS).format(n=rng.randrange(1, 180), z=_digits(rng, 3))


def _dob(p: _Persona) -> str:
    rng = p.rng
    y, m, d = rng.randrange(1945, 2004), rng.randrange(1, 13), rng.randrange(1, 29)
    return rng.choice((f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{MONTHS[m - 1]} {d}, {y}"))


def _api_key(p: _Persona) -> str:
    rng = p.rng
    kind = rng.randrange(4)
    if kind == 0:
        return "AKIA" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))
    if kind == 1:
        return "sk-proj-" + "".join(rng.choices(_ALNUM, k=40))
    if kind == 2:
        return "ghp_" + "".join(rng.choices(_ALNUM, k=36))
    return f"xoxb-{_digits(rng, 11)}-{_digits(rng, 13)}-" + "".join(rng.choices(_ALNUM, k=24))


def _jwt(p: _Persona) -> str:
    body = "".join(p.rng.choices(_ALNUM, k=30))
    return f"eyJhbGciOiJIUzI1NiJ9.eyJ{body}.{''.join(p.rng.choices(_ALNUM + '-_', k=43))}"


_MAKERS = {
    "first": lambda p: p.rng.choice(FIRST_NAMES),
    "last": lambda p: p.rng.choice(LAST_NAMES),
    "name": lambda p: f"{p.values.setdefault('first', p.rng.choice(FIRST_NAMES))} {p.values.setdefault('last', p.rng.choice(LAST_NAMES))}",
    "email": lambda p: f"{p.values.setdefault('first', p.rng.choice(FIRST_NAMES)).lower()}.{p.values.setdefault('last', p.rng.choice(LAST_NAMES)).lower()}@{p.rng.choice(DOMAINS)}",
    "phone": _phone,
    "address": _address,
    "card": _card,
    "iban": _iban,
    "ssn": _ssn,
    "ip": lambda p: f"{p.rng.choice((23, 52, 81, 104, 151, 185))}.{p.rng.randrange(256)}.{p.rng.randrange(256)}.{p.rng.randrange(1, 255)}",
    "dob": _dob,
    "api_key": _api_key,
    "token": _jwt,
    "password": lambda p: f"{p.rng.choice(('Summer', 'Falcon', 'Orchid', 'Copper'))}{p.rng.randrange(10, 9999)}{p.rng.choice('!#%*')}{''.join(p.rng.choices(_ALNUM, k=4))}",
}
_TYPES = {
    "first": "PERSON", "last": "PERSON", "name": "PERSON", "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER", "address": "STREET_ADDRESS", "card": "CREDIT_CARD", "iban": "IBAN_CODE",
    "ssn": "US_SSN", "ip": "IP_ADDRESS", "dob": "DATE_OF_BIRTH", "api_key": "API_KEY",
    "token": "BEARER_TOKEN", "password": "PASSWORD",
}


def _step(index: int, kind: str, role: str, content: str | None = None, reasoning: str | None = None, tool: dict | None = None) -> dict:
    return {"index": index, "kind": kind, "role": role, "content": content, "reasoning": reasoning, "tool": tool,
            "started_at": None, "ended_at": None, "tokens_in": 100, "tokens_out": 40}


def _tool(name: str, arguments: dict, result: str | None = None, error: str | None = None) -> dict:
    return {"call_id": f"call_{name}", "name": name, "arguments": json.dumps(arguments), "result": result, "error": error}


def _support(p: _Persona) -> tuple[str, list[dict], list[dict], str]:
    name = p.use("name", "input")
    text = (f"Hi, my name is {name}. I ordered a jacket last week and want to change the delivery "
            f"address to {p.use('address', 'input')}. You can reach me at {p.use('phone', 'input')}.")
    docs = [KB_DOCS[1], {"doc_id": "crm-1", "source": "crm", "score": 0.9,
                         "content": f"Customer {p.use('name', 'context')} (born {p.use('dob', 'context')}) prefers email contact."}]
    steps = [
        _step(0, "llm", "assistant", FILLER[0], reasoning=f"I should verify {p.use('name', 'reasoning')} with the lookup tool first."),
        _step(1, "tool", "tool", tool=_tool("lookup_customer", {"email": p.use("email", "tool_arguments")},
              json.dumps({"customer": {"id": "C-1042", "full_name": p.use("name", "tool_result"), "phone": p.use("phone", "tool_result"),
                          "card_on_file": p.use("card", "tool_result"), "tier": "gold", "orders": 12}}))),
        _step(2, "tool", "tool", tool=_tool("search_kb", {"query": "change shipping address"}, NO_RESULTS)),
        _step(3, "tool", "tool", tool=_tool("update_address", {"customer_id": "C-1042", "address": p.use("address", "tool_arguments")}, OK_RESULT)),
        _step(4, "message", "assistant", f"Thanks {p.use('first', 'step_content')}, the address is updated. {FILLER[4]}"),
    ]
    final = f"Updated the shipping address for {p.use('name', 'final_output')}; confirmation sent to {p.use('email', 'final_output')}."
    return text, docs, steps, final


def _engineering(p: _Persona) -> tuple[str, list[dict], list[dict], str]:
    key = p.use("api_key", "input")
    text = (f"Our billing job fails since this morning. I set OPENAI_API_KEY={key} in the env file and the "
            f"service at {p.use('ip', 'input')} still returns 401. Can you check? -- {p.use('name', 'input')}")
    docs = [KB_DOCS[3], KB_DOCS[4]]
    password = p.use("password", "tool_arguments")
    steps = [
        _step(0, "reasoning", "assistant", reasoning="Check the logs, then the database connection settings."),
        _step(1, "tool", "tool", tool=_tool("run_shell", {"cmd": "kubectl logs deploy/billing --tail=50"},
              "ERROR auth failed: Authorization: Bearer " + p.use("token", "tool_result") + "\nWARN retrying in 5s")),
        _step(2, "tool", "tool", tool=_tool("run_sql", {"dsn": f"postgres://billing_app:{password}@db.internal:5432/billing", "sql": "select count(*) from invoices"},
              None, f"could not connect to server at {p.use('ip', 'tool_error')}: password authentication failed for user billing_app")),
        _step(3, "llm", "assistant", f"The key {p.use('api_key', 'step_content')} looks revoked; rotate it and redeploy. {FILLER[3]}"),
        _step(4, "tool", "tool", tool=_tool("search_kb", {"query": "rotate api key"}, NO_RESULTS)),
    ]
    final = f"Rotate the API key, then restart billing. Contact {p.use('email', 'final_output')} if it persists. {FILLER[2]}"
    return text, docs, steps, final


def _travel(p: _Persona) -> tuple[str, list[dict], list[dict], str]:
    name = p.use("name", "input")
    text = (f"Book me a flight to Lisbon on Friday. Passenger: {name}, date of birth {p.use('dob', 'input')}. "
            f"Charge the card {p.use('card', 'input')} and send the ticket to {p.use('email', 'input')}.")
    docs = [{"doc_id": "profile", "source": "profile", "score": 1.0,
             "content": f"Traveller {p.use('name', 'context')}, passport holder, SSN {p.use('ssn', 'context')}, mobile {p.use('phone', 'context')}."}]
    steps = [
        _step(0, "llm", "assistant", FILLER[5], reasoning=f"The traveller {p.use('name', 'reasoning')} wants Friday."),
        _step(1, "tool", "tool", tool=_tool("book_flight", {"passenger": {"full_name": p.use("name", "tool_arguments"), "dob": p.use("dob", "tool_arguments"),
                                                                         "payment": {"card_number": p.use("card", "tool_arguments"), "iban": p.use("iban", "tool_arguments")}},
                                                            "route": "JFK-LIS", "seats": 1},
              json.dumps({"booking": "PNR7QX", "status": "confirmed", "billing_address": p.use("address", "tool_result")}))),
        _step(2, "message", "assistant", f"Booked. Your refund account {p.use('iban', 'step_content')} is on file, {p.use('first', 'step_content')}."),
    ]
    final = f"Flight booked for {p.use('name', 'final_output')}; receipt to {p.use('email', 'final_output')}."
    return text, docs, steps, final


SCENARIOS = (_support, _engineering, _travel)


def build_corpus(trajectories: int, seed: int = 7, users: int | None = None) -> Corpus:
    """`trajectories` silver rows (TRAJECTORY-shaped dicts) with their PII truth."""
    rng = random.Random(seed)
    users = users or max(1, trajectories // 3)
    user_ids = [f"user-{i:05d}" for i in range(users)]
    rows, truth = [], []
    start = datetime(2026, 11, 1)
    for i in range(trajectories):
        trajectory_id = f"traj-{seed}-{i:06d}"
        persona = _Persona(random.Random(rng.random()), trajectory_id, truth)
        scenario = SCENARIOS[i % len(SCENARIOS)]
        text, docs, steps, final = scenario(persona)
        system_prompt = SYSTEM_PROMPTS[i % len(SYSTEM_PROMPTS)]
        if rng.random() < 0.3:  # operators sometimes paste customer details into the prompt
            system_prompt += f"\nOn-call escalation: {persona.use('name', 'system_prompt')}, {persona.use('phone', 'system_prompt')}."
        rows.append({
            "trajectory_id": trajectory_id,
            "session_id": f"s-{i}",
            "user_id": user_ids[i % users],
            "tenant": "acme",
            "source_kind": "interaction_log",
            "agent": {"name": "atlas", "version": "1.4"},
            "model": {"provider": "acme", "name": "m1", "version": "2026-10"},
            "task": {"type": scenario.__name__.strip("_"), "difficulty": "medium", "language": "en", "tags": ["redaction"]},
            "system_prompt": system_prompt,
            "input": text,
            "context_docs": docs,
            "steps": steps,
            "tools_available": list(TOOLS),
            "final_output": final,
            "metadata": {"latency_ms": 1200, "tokens_in": 900, "tokens_out": 300, "cost_usd": 0.01, "status": "completed",
                         "started_at": start + timedelta(minutes=i), "ended_at": start + timedelta(minutes=i, seconds=30), "extra": {}},
            "source_format": "native",
            "source_uri": "file:///bench/logs/part-0.jsonl",
            "source_line": i + 1,
            "ingest_run_id": "bench",
            "ingested_at": start,
            "completeness": ["input", "system_prompt", "steps", "output"],
            "content_hash": f"h{seed}-{i}",
        })
    return Corpus(rows, truth, user_ids)
