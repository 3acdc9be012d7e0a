"""Our Presidio recognizers: what the stock ones leave behind in agent trajectories.

Presidio's spaCy NER tags "Elm Street" but leaves the house number; its phone matcher misses
many international layouts; and it has no notion of secrets, which agent logs are full of
(keys pasted into prompts, tokens in tool arguments, credentials in connection strings). Each
recognizer here is a `PatternRecognizer`, so Presidio's context enhancement, score thresholds
and de-duplication treat them like its own.

Patterns are case-sensitive unless they say otherwise (`(?i)`): Presidio's default flags are
case-insensitive, which would make "[A-Z]" match anything.
"""

from __future__ import annotations

import regex as re
import phonenumbers
import tldextract
from presidio_analyzer import Pattern, PatternRecognizer
from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer

CASE_SENSITIVE = re.DOTALL | re.MULTILINE

STREET_ADDRESS = "STREET_ADDRESS"
POSTAL_CODE = "POSTAL_CODE"
PHONE_NUMBER = "PHONE_NUMBER"
CREDIT_CARD = "CREDIT_CARD"
API_KEY = "API_KEY"
BEARER_TOKEN = "BEARER_TOKEN"
PRIVATE_KEY = "PRIVATE_KEY"
PASSWORD = "PASSWORD"
PERSON = "PERSON"

_STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|"
    "Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Close|"
    "Row|Alley|Plaza|Walk|Loop|Path|Pike|Mews|Gardens|Grove|Hill"
)
_UNIT = r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Room|Rm|#)\.?\s*#?[A-Za-z0-9-]{1,6})?"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}"
_CITY_STATE_ZIP = (
    r"(?:,\s*[A-Z][a-z][a-zA-Z]*(?:[ -][A-Z][a-z][a-zA-Z]*){0,3}(?:,\s*[A-Z]{2})?"
    rf"(?:,?\s+(?:\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE}))?)?"
)
_US_STREET = (
    r"\b\d{1,6}[A-Za-z]?\s+(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
    r"(?:[A-Z][a-zA-Z'-]*\.?\s+|\d{1,3}(?:st|nd|rd|th)\s+){1,4}"
    rf"(?:{_STREET_TYPES})\b\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?{_UNIT}{_CITY_STATE_ZIP}"
)
# Continental layouts, number first or last: "12 Hauptstrasse", "Kurfuerstendamm 21a",
# "12 rue de Rivoli", "Calle Mayor 5", each with an optional ", 10115 Berlin".
_EU_TOWN = r"(?:,\s*\d{4,5}\s+[A-Z][\wÀ-ÿ-]+)?"
_GERMAN_STREET = r"[A-ZÄÖÜ][a-zäöüß]+(?:strasse|straße|str\.|weg|gasse|platz|allee|damm|ring|ufer)"
_ROMANCE_STREET = (
    # French street words are written lower case; the others ("2 via Slack") only count capitalised.
    r"(?:(?i:rue|avenue|av\.|boulevard|bd|place|chemin|quai|all[ée]e)|Via|Viale|Piazza|Corso|Calle|"
    r"Avenida|Plaza|Paseo|Carrer|Passeig|Rua|Praça)\s+(?:(?i:de|du|des|la|le|les|del|di|della|do|da|d')\s*)*"
    r"[A-ZÀ-Ý][\wÀ-ÿ'-]+(?:\s+[A-ZÀ-Ý][\wÀ-ÿ'-]+){0,3}"
)
_EU_STREET = (
    rf"\b\d{{1,4}}[a-z]?,?\s+(?:{_GERMAN_STREET}|{_ROMANCE_STREET}){_EU_TOWN}"
    rf"|\b(?:{_GERMAN_STREET}|{_ROMANCE_STREET}),?\s+\d{{1,4}}[a-z]?\b{_EU_TOWN}"
)
_PO_BOX = r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b"


class _OurPatterns(PatternRecognizer):
    """A recognizer of ours: its ENTITY, PATTERNS and CONTEXT as class attributes, named after
    its class (the name the audit records), regexes case-sensitive unless a pattern says (?i:)."""

    ENTITY: str
    PATTERNS: list[Pattern]
    CONTEXT: list[str] | None = None

    def __init__(self, supported_language: str = "en"):
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
            global_regex_flags=CASE_SENSITIVE,
        )


class StreetAddressRecognizer(_OurPatterns):
    """House number + street (+ unit, city, state, ZIP), US and common European layouts."""

    PATTERNS = [
        Pattern("us_street", _US_STREET, 0.75),
        Pattern("eu_street", _EU_STREET, 0.7),
        Pattern("po_box", _PO_BOX, 0.7),
    ]
    CONTEXT = ["address", "street", "live", "lives", "ship", "deliver", "mail", "located", "home"]

    ENTITY = STREET_ADDRESS


class PostalCodeRecognizer(_OurPatterns):
    """Postal codes in forms specific enough to stand alone (UK, Canada, US ZIP after a state)."""

    PATTERNS = [
        # UK: "SW1A 1AA", "M1 1AE", "EC1V 9HX" (the space is required, which keeps ids out).
        Pattern("uk_postcode", rf"\b{_UK_POSTCODE}\b", 0.6),
        # Canada: "K1A 0B1".
        Pattern("ca_postcode", r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d\b", 0.6),
        # US: ZIP or ZIP+4 right after a two-letter state code: "IL 62704", "CA 94105-1234".
        Pattern(
            "us_state_zip",
            r"\b(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY])"
            r"\s+\d{5}(?:-\d{4})?\b",
            0.6,
        ),
    ]
    CONTEXT = ["zip", "postcode", "postal", "post code", "address"]

    ENTITY = POSTAL_CODE


class InternationalPhoneRecognizer(_OurPatterns):
    """Phone numbers in international (+CC / 00CC) and North American layouts.

    A regex proposes a candidate; `phonenumbers` keeps it only if it is a possible number, so
    version strings and dates do not pass.
    """

    PATTERNS = [
        Pattern(
            "international",
            r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[\s.\-]?\(?\d{1,5}\)?){2,6}(?![\w])",
            0.7,
        ),
        Pattern(
            "north_american",
            r"(?<![\w+\-.])(?:1[\s.\-])?\(?[2-9]\d{2}\)?[\s.\-]\d{3}[\s.\-]\d{4}(?![\w\-])",
            0.6,
        ),
    ]
    CONTEXT = ["phone", "telephone", "tel", "cell", "mobile", "call", "fax", "whatsapp", "sms"]

    ENTITY = PHONE_NUMBER

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = re.sub(r"\D", "", pattern_text)
        if not 7 <= len(digits) <= 15:
            return False
        text = "+" + pattern_text.lstrip()[2:] if pattern_text.lstrip().startswith("00") else pattern_text
        try:
            number = phonenumbers.parse(text, None if text.lstrip().startswith("+") else "US")
        except phonenumbers.NumberParseException:
            return False
        # None keeps the pattern's score (a likely number), False drops it.
        return None if phonenumbers.is_possible_number(number) else False


class PaymentCardRecognizer(_OurPatterns):
    """Card numbers Presidio's pattern misses (Mastercard 2-series, Amex 4-6-5 grouping), Luhn-checked."""

    PATTERNS = [
        Pattern(
            "card_by_issuer",
            r"(?<![\d-])(?:2[2-7]\d{2}|3[47]\d{2}|4\d{3}|5[1-5]\d{2}|6011|65\d{2})"
            r"(?:[ -]?\d){9,15}(?![\d-])",
            0.6,
        ),
    ]
    CONTEXT = ["card", "credit", "visa", "mastercard", "amex", "payment"]

    ENTITY = CREDIT_CARD

    def validate_result(self, pattern_text: str) -> bool:
        digits = [int(ch) for ch in pattern_text if ch.isdigit()]
        if not 13 <= len(digits) <= 19:
            return False
        total = 0
        for position, digit in enumerate(reversed(digits)):
            if position % 2:
                digit = digit * 2 - 9 if digit > 4 else digit * 2
            total += digit
        return total % 10 == 0


class ApiKeyRecognizer(_OurPatterns):
    """Cloud and API credentials with a recognisable prefix, and `api_key=...` style assignments."""

    PATTERNS = [
        Pattern("aws_access_key_id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b", 0.95),
        Pattern(
            "aws_secret_access_key",
            r"(?i:aws.{0,20}secret.{0,20}?[=:]\s*[\"']?)\K[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])",
            0.9,
        ),
        Pattern("openai_key", r"\bsk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}", 0.95),
        Pattern("stripe_key", r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b", 0.95),
        Pattern("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b", 0.95),
        Pattern("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0.95),
        Pattern("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b", 0.95),
        Pattern("gitlab_token", r"\bglpat-[A-Za-z0-9_\-]{20,}\b", 0.95),
        Pattern(
            "key_assignment",
            r"(?i:\b(?:api[_-]?key|api[_-]?secret|secret[_-]?key|access[_-]?key|client[_-]?secret|"
            r"auth[_-]?token|access[_-]?token|secret)[\"']?\s*[:=]\s*[\"']?)\K[A-Za-z0-9_\-./+=]{16,}",
            0.8,
        ),
    ]
    CONTEXT = ["key", "token", "secret", "api", "credential"]

    ENTITY = API_KEY


class BearerTokenRecognizer(_OurPatterns):
    """JWTs anywhere, and the credential after `Bearer` / `Basic` / `token` / `token is`."""

    PATTERNS = [
        Pattern("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}", 0.95),
        Pattern(
            "authorization_header",
            r"(?i:\b(?:bearer|basic|token)\b[\"']?\s*(?:[:=]|\bis\b)?\s*[\"']?)\K(?=[A-Za-z0-9\-._~+/]*\d)[A-Za-z0-9\-._~+/]{16,}=*",
            0.85,
        ),
    ]
    CONTEXT = ["authorization", "bearer", "token", "header"]

    ENTITY = BEARER_TOKEN


class PrivateKeyRecognizer(_OurPatterns):
    """PEM private key blocks, whole; a block cut off before its END line is taken to its end."""

    PATTERNS = [
        Pattern(
            "pem_private_key",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,-]*)",
            1.0,
        ),
    ]

    ENTITY = PRIVATE_KEY


class PasswordRecognizer(_OurPatterns):
    """Passwords in URLs (`scheme://user:PASSWORD@host`) and in key=value connection strings."""

    PATTERNS = [
        Pattern("url_userinfo", r"(?i:\b[a-z][a-z0-9+.\-]*://[^\s:/@\"'<>]+:)\K[^\s@/\"'<>]+(?=@)", 0.95),
        Pattern(
            "password_assignment",
            r"(?i:\b(?:password|passwd|pwd|pass)\b[\"']?\s*(?:[:=]|\bis\b)\s*[\"']?)\K[^\s\"';,&<>]{4,}",
            0.85,
        ),
        # "password Falcon116-Fcdf", "my password. I think it was Winter6041*38ny": the first
        # token with both letters and digits shortly after the word.
        Pattern(
            "password_nearby",
            r"(?i:\b(?:password|passwd|passphrase)\b).{0,40}?\K(?<![\w@./:\\-])"
            r"(?=[^\s\"',;<>]*\d)(?=[^\s\"',;<>]*[A-Za-z])[^\s\"',;<>]{6,}",
            0.7,
        ),
    ]
    CONTEXT = ["password", "passwd", "credentials", "login"]

    ENTITY = PASSWORD


_NAME = r"\p{Lu}[\p{Ll}'’]+(?:[ -]\p{Lu}[\p{Ll}'’]+){0,3}(?![\p{L}\d_])"


class PersonCueRecognizer(_OurPatterns):
    """Names right after a cue NER tends to miss them behind: "Name on card: Priya Rodriguez",
    "Dear Ms Okafor", a bare "name: Amara Sato" (JSON values are analysed as `key: value`)."""

    PATTERNS = [
        Pattern(
            "labelled_name",
            rf"(?i:\b(?:(?:full|first|last|customer|contact|account|card ?holder|holder|sender|recipient)[ _]?)?"
            rf"name(?: on (?:the )?card)?[\"']?\s*[:=]\s*[\"']?)\K{_NAME}",
            0.6,
        ),
        Pattern(
            "salutation",
            rf"(?i:\b(?:dear|attn\.?|regards,?|sincerely,?|cardholder:?)\s+)(?:(?:Mr|Mrs|Ms|Mx|Dr|Prof)\.?\s+)?\K{_NAME}",
            0.5,
        ),
    ]

    ENTITY = PERSON


# One extractor for the whole worker: the PSL snapshot bundled with tldextract, no cache dir,
# no URL, so nothing ever tries to download the public suffix list (clusters have no network).
OFFLINE_TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


_URL_BEFORE_USERINFO_END = re.compile(r"[a-z][a-z0-9+.\-]*://[^\s/@:]+:$", re.IGNORECASE)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer, validating domains against the bundled suffix list only."""

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_language=supported_language, name="EmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        return OFFLINE_TLD_EXTRACTOR(pattern_text).fqdn != ""

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        """Emails, except the `password@host` of a URL (PasswordRecognizer takes the password)."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not _URL_BEFORE_USERINFO_END.search(text, max(0, r.start - 200), r.start)]


# Seven digits separated by nothing but phone punctuation: no phone number without it.
_PHONE_CANDIDATE = re.compile(r"\d(?:[\s().\-+/]{0,3}\d){6}")


class GatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer, skipped on texts that cannot hold a phone number.

    It runs libphonenumber's matcher once per region (eight of them) over every text, which
    is the most expensive recognizer by far; most texts have no seven-digit run at all.
    """

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_language=supported_language, name="PhoneRecognizer")

    def analyze(self, text, entities, nlp_artifacts=None):
        if not _PHONE_CANDIDATE.search(text):
            return []
        return super().analyze(text, entities, nlp_artifacts)


def custom_recognizers(language: str = "en") -> list[PatternRecognizer]:
    """Every recognizer of ours, for the analyzer's registry."""
    return [
        StreetAddressRecognizer(language),
        PostalCodeRecognizer(language),
        InternationalPhoneRecognizer(language),
        PaymentCardRecognizer(language),
        ApiKeyRecognizer(language),
        BearerTokenRecognizer(language),
        PrivateKeyRecognizer(language),
        PasswordRecognizer(language),
        PersonCueRecognizer(language),
    ]
