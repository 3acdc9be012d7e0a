"""The Python trace helpers: VARIANT reading rules (values as Spark gives them) and message
shapes (the shapes the Spark adapters normalised, normalised the same way)."""

from __future__ import annotations

import json

import pytest
from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

from transforms.adapters import message_shapes as ms
from transforms.adapters import trace_rules as tr
from transforms.adapters import variant_values as vv


@pytest.mark.parametrize(
    ("literal", "spark_text"),
    [
        ('{"b":2,"a":{"z":1,"y":[1,2.50,3e-5,1e20,true,null,"x"]}}', '{"a":{"y":[1,2.5,3.0E-5,1.0E20,true,null,"x"],"z":1},"b":2}'),
        ("0.000437", "0.000437"),
        ("4.37e-05", "4.37E-5"),
        ("100.0", "100"),
        ("-0.0", "0"),
        ("1E+2", "100.0"),
        ("12345678901234567890123", "12345678901234567890123"),
        ("0.1234567890123456789012345678901234567890", "0.12345678901234568"),
    ],
)
def test_text_is_what_try_variant_get_gives(literal, spark_text):
    assert vv.text(vv.loads(literal)) == spark_text


def test_jackson_text_keeps_key_order_and_prints_doubles_as_java():
    assert vv.jackson_text(vv.loads('{"b":1.50,"a":1e2}')) == '{"b":1.5,"a":100.0}'
    assert vv.jackson_text(vv.loads("0.000437")) == "4.37E-4"


def test_json_text_orders_keys_by_utf16_and_escapes_controls_as_jackson():
    """VARIANT sorts keys by UTF-16 unit (an emoji's surrogates before U+FFFF); a control is
    escaped with upper-case hex, an escaped backslash before "u001f" stays as it is."""
    keys = vv.loads('{"\\uffff":1,"\\ud83d\\ude00":2,"b":3,"\\u00e9":4}')
    assert vv.to_json(keys) == '{"b":3,"\u00e9":4,"\U0001F600":2,"\uffff":1}'
    assert vv.jackson_text(keys) == '{"\uffff":1,"\U0001F600":2,"b":3,"\u00e9":4}'
    controls = vv.loads('{"c":"a\\u001fb\\\\u001f\\n"}')
    assert vv.to_json(controls) == vv.jackson_text(controls) == '{"c":"a\\u001Fb\\\\u001f\\n"}'


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("2026-10-30T08:00:00.710000", 1_793_347_200_710_000),
        ("2026-10-30T08:00:00.1234567+02:00", 1_793_340_000_123_456),
        ("2026-10-30 08:00", 1_793_347_200_000_000),
        ("2026-10", 1_790_812_800_000_000),
        ("2026-10-30T08:00:00-05", 1_793_365_200_000_000),
        ("1730000000", None),
    ],
)
def test_timestamps_parse_as_try_to_timestamp(text, micros):
    assert vv.timestamp_micros(text) == micros


def test_casts_of_text_follow_spark():
    assert (vv.text_to_double("1.5d"), vv.text_to_double(" inf "), vv.text_to_double("1_0")) == (1.5, float("inf"), None)
    assert (vv.text_to_long(" 12 "), vv.text_to_long("1.5"), vv.double_to_long(-2.9)) == (12, None, -2)


def test_a_json_null_is_present_and_a_missing_path_is_not():
    record = vv.loads('{"a": null}')
    assert vv.get(record, "a") is None and vv.present(vv.get(record, "a"))
    assert vv.get(record, "b") is vv.ABSENT and vv.get(record, "a", "c") is vv.ABSENT


def test_loads_keeps_number_literals_and_refuses_what_json_loads_refuses():
    """One decoder serves every call: decoding one text must not change how the next is read."""
    first, second = vv.loads('{"a": 1.50, "b": [1e5]}'), vv.loads('{"a": 2.0}')
    assert (first["a"].text, first["b"][0].text, second["a"].text) == ("1.50", "1e5", "2.0")
    for bad in ("\ufeff{}", '{"a": 1} trailing', ""):
        with pytest.raises(json.JSONDecodeError):
            vv.loads(bad)


def test_langchain_batch_of_serialized_messages():
    def lc(cls, **kw):
        return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", cls], "kwargs": kw}

    inputs = {"messages": [[
        lc("SystemMessage", content="be brief", type="system"),
        lc("HumanMessage", content="hi", type="human"),
        lc("AIMessage", content="", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c1", "type": "tool_call"}], type="ai"),
        lc("ToolMessage", content="failed", tool_call_id="c1", status="error", type="tool"),
    ]]}
    # Sent messages: the rules read no reasoning or tool calls of a model call's inputs.
    assert ms.message_array(inputs) == [
        ms.message("system", "be brief", is_error=False),
        ms.message("user", "hi", is_error=False),
        ms.message("assistant", "", is_error=False),
        ms.message("tool", "failed", tool_call_id="c1", is_error=True),
    ]
    assert ms.normalize_message(inputs["messages"][0][2]) == ms.message(
        "assistant", "", tool_calls=[{"id": "c1", "name": "f", "arguments": '{"x":1}'}], is_error=False
    )


def test_an_answer_that_is_a_json_null_message_keeps_no_text():
    """{message: null} wins the coalesce over the generation's text, as a variant null does in Spark."""
    assert ms.output_message(vv.loads('{"generations": [[{"text": "hi", "message": null}]]}'))["content"] is None
    assert ms.output_message(vv.loads('{"generations": [[{"text": "hi"}]]}'))["content"] == "hi"


def test_message_shapes_normalise_to_one_message():
    """OpenAI, LangChain (with thinking blocks) and tool-result shapes, and a bare prompt: the
    messages the Spark chat_messages test expected of the same shapes."""
    shapes = [
        '{"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1}"}}]}',
        '{"type": "ai", "content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "ok"}], "tool_calls": [{"name": "g", "args": {"b": 2}, "id": "c2"}]}',
        '{"role": "tool", "tool_call_id": "c1", "content": "boom", "status": "error"}',
        '"plain prompt"',
    ]
    assert [ms.normalize_message(vv.loads(s)) for s in shapes] == [
        ms.message("assistant", None, tool_calls=[{"id": "c1", "name": "f", "arguments": '{"a": 1}'}], is_error=False),
        ms.message("assistant", "ok", "hm", tool_calls=[{"id": "c2", "name": "g", "arguments": '{"b":2}'}], is_error=False),
        ms.message("tool", "boom", tool_call_id="c1", is_error=True),
        ms.message("user", "plain prompt", is_error=False),
    ]


_ITEMS = ArrayType(StructType([StructField("role", StringType()), StructField("n", DoubleType())]))
# Read in this order by one GrowingArrayReader: texts that extend the one before (with spaces
# around the comma, trailing text after the array), and texts that must be read whole: after an
# empty array, a changed first item, an added part that is cut off or holds a non-object, an
# object (read as a one-item array), null, not JSON.
_GROWING_TEXTS = [
    '[{"role": "a", "n": 1}]',
    '[{"role": "a", "n": 1}, {"role": "b"}]',
    '[{"role": "a", "n": 1}, {"role": "b"}  ,{"role": "c", "n": "x"}] trailing',
    '[{"role": "a", "n": 1}, {"role": "b"}  ,{"role": "c", "n": "x"}, {"role": "d"}]',
    '[{"role": "a", "n": 1}, {"role": "b"}  ,{"role": "c", "n": "x"}, {"role": "d"}, {"role": "e"',
    '[{"role": "a", "n": 1}, {"role": "b"}  ,{"role": "c", "n": "x"}, {"role": "d"}, 7]',
    '[{"role": "a", "n": 1}, {"role": "b"}  ,{"role": "c", "n": "x"}, {"role": "d"}, {"role": "e"}]',
    "[]",
    '[ , {"role": "f"}]',
    '[{"role": "A", "n": 1}, {"role": "b"}]',
    '{"role": "g"}',
    "null",
    "not json",
    '  [{"role": "h"}]',
    '  [{"role": "h"}, {"role": "i"}]',
]


def test_a_growing_array_reader_reads_each_text_as_json_reader():
    whole = vv.json_reader(_ITEMS)
    growing = vv.GrowingArrayReader(_ITEMS)
    read = [growing(text) for text in _GROWING_TEXTS]
    assert read == [whole(text) for text in _GROWING_TEXTS]
    assert read[3] == [{"role": r, "n": n} for r, n in [("a", 1.0), ("b", None), ("c", None), ("d", None)]]
    texts = ['[{"role": "x"}]', '[{"role": "x"}, {"role": "y"}]', '[{"role": "x"}, {"role": "y"}, {"role": "z"}]']
    for text in texts:  # read whole, then grown: results are the caller's to change
        result = growing(text)
        assert result == whole(text)
        result.append("changed by a caller")


def test_a_growing_array_reader_maps_each_item_once():
    mapped: list[str] = []

    def each(item: dict) -> list[str]:
        mapped.append(item["role"])
        return [item["role"]] * 2

    growing = vv.GrowingArrayReader(_ITEMS, each=each)
    assert [growing(text) for text in _GROWING_TEXTS[:4]] == [
        ["a", "a"], ["a", "a", "b", "b"], ["a", "a", "b", "b", "c", "c"], ["a", "a", "b", "b", "c", "c", "d", "d"],
    ]
    assert mapped == ["a", "b", "c", "d"]


def test_sent_messages_reads_each_call_as_message_array():
    def human(text):
        return {"type": "human", "content": text}

    tool_reply = {"role": "tool", "content": "42", "tool_call_id": "c1"}
    calls = [
        {"messages": [[human("hi")]]},
        {"messages": [[human("hi"), {"type": "ai", "content": "", "tool_calls": []}, tool_reply]]},
        [human("hi"), {"type": "ai", "content": "", "tool_calls": []}, tool_reply, human("more")],
        [human("hello"), human("more")],  # an earlier message changed: read whole
        [human("hello")],  # fewer messages
        "a prompt",  # no list
        {"messages": []},
        [human("hello"), human("again")],
    ]
    sent = ms.SentMessages()
    read = [sent(call) for call in calls]
    assert read == [ms.message_array(call) for call in calls]
    assert read[2][2] == ms.message("tool", "42", tool_call_id="c1", is_error=False)
    read[-1].clear()  # results are the caller's lists
    assert sent([human("hello"), human("again"), human("!")]) == ms.message_array([human("hello"), human("again"), human("!")])


def test_a_tool_step_takes_the_first_reply_sent_for_its_call():
    """Replies are looked up by call id: the first one a model call sent wins, as the scan gave."""
    request = {"id": "c1", "name": "f", "arguments": "{}"}
    replies = [ms.message("tool", text, tool_call_id="c1", is_error=False) for text in ("first", "second")]
    ops = [
        tr.operation(tr.OP_LLM, 1, 2, "a", inputs=[ms.message("user", "hi")], output=ms.message("assistant", None, tool_calls=[request])),
        tr.operation(tr.OP_LLM, 3, 4, "b", inputs=[ms.message("user", "hi"), *replies], output=ms.message("assistant", "done")),
    ]
    tool_steps = [s for s in tr.steps(ops) if s["kind"] == "tool"]
    assert [(s["tool"]["call_id"], s["tool"]["result"]) for s in tool_steps] == [("c1", "first")]
