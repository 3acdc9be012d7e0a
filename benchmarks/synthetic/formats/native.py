"""trajlake.v1: the canonical trajectory as one JSON line, tagged with its format."""

from __future__ import annotations

from benchmarks.synthetic.json_text import compact, scalar, string
from benchmarks.synthetic.splice import content_key, encoded_as, shared
from schemas.trajectory import NATIVE_FORMAT_TAG

NAME = "native"

# The canonical step and tool call (trajectories.TrajectoryBuilder makes them in this key order).
_STEP_KEYS = ("index", "kind", "role", "content", "reasoning", "tool", "started_at", "ended_at", "tokens_in", "tokens_out")
_TOOL_KEYS = ("call_id", "name", "arguments", "result", "error")


def render(trajectory: dict) -> list[dict]:
    record = {"format": NATIVE_FORMAT_TAG, **trajectory}
    tools = trajectory.get("tools_available")
    if tools:
        record["tools_available"] = shared(("native.tools", content_key(tools)), lambda: tools)
    steps = trajectory.get("steps")
    if steps and steps.__class__ is list:
        record["steps"] = encoded_as(steps, steps_text)
    return [record]


def steps_text(steps: list) -> str:
    """compact(steps), the canonical steps written with an f-string each (a few times faster than
    the encoder on this shape); any other step through the encoder."""
    return f"[{','.join([_step_text(step) for step in steps])}]"


def _step_text(step: dict) -> str:
    if step.__class__ is not dict or tuple(step) != _STEP_KEYS:
        return compact(step)
    index, kind, role, content, reasoning, tool, started_at, ended_at, tokens_in, tokens_out = step.values()
    try:  # string() takes only a str: any other value type raises and goes through the encoder
        return (
            f'{{"index":{scalar(index)},"kind":{string(kind)},"role":{string(role)},'
            f'"content":{"null" if content is None else string(content)},'
            f'"reasoning":{"null" if reasoning is None else string(reasoning)},'
            f'"tool":{"null" if tool is None else _tool_text(tool)},'
            f'"started_at":{"null" if started_at is None else string(started_at)},'
            f'"ended_at":{"null" if ended_at is None else string(ended_at)},'
            f'"tokens_in":{scalar(tokens_in)},"tokens_out":{scalar(tokens_out)}}}'
        )
    except TypeError:
        return compact(step)


def _tool_text(tool: dict) -> str:
    if tool.__class__ is not dict or tuple(tool) != _TOOL_KEYS:
        return compact(tool)
    call_id, name, arguments, result, error = tool.values()
    return (
        f'{{"call_id":{string(call_id)},"name":{string(name)},"arguments":{string(arguments)},'
        f'"result":{"null" if result is None else string(result)},"error":{"null" if error is None else string(error)}}}'
    )
