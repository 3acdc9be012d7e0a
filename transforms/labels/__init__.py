"""Labels: feedback events joined to their trajectory and turned into one label per trajectory.

feedback_events  raw records -> typed events, bad ones and duplicates with a reason
signals          each event -> score on a 0..1 success scale, weight, vote, source rank
label_rules      signals -> outcome (precedence, conflicts), quality, confidence per trajectory
params           the `labels:` conf section, checked
"""
