"""Redaction: Presidio-based, JSON-preserving, per-trajectory placeholders, built for volume.

    recognizers    our Presidio recognizers (addresses, phones, cards, secrets) + offline email
    analyzer       the per-worker AnalyzerEngine (NER-only spaCy pipeline)
    chunking       texts -> pieces (runs of lines; long ones cut with overlap)
    text_analysis  spans of many texts at once: distinct pieces, LRU cache, batched NER
    json_values    redacting inside JSON tool arguments / results, sensitive keys
    placeholders   <PERSON_1> per trajectory, or keyed-hash pseudonyms
    propagation    a value found once in a trajectory is redacted everywhere in it
    redact_frame   the mapInPandas transform over TRAJECTORY rows, and the audit rows
    increments     which trajectories a run redacts, and which it withdraws
    leak_scan      leak rate and over-redaction against seeded truth
    config         the `redaction:` conf section as one frozen value
"""
