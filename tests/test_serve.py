"""`quarry serve` as a real subprocess on 127.0.0.1, used through the OpenAI-compatible backend."""

import json

import httpx
import openai
import pytest
from pydantic import BaseModel, Field

from quarry.errors import ModelError, ProviderRefused
from quarry.llm.openai_backend import OpenAIModel
from quarry.llm.specs import open_model
from tests.conftest import free_port

TOOLS = [{"type": "function", "function": {
    "name": "calendar_list", "description": "List the user's calendar events on a day (YYYY-MM-DD).",
    "parameters": {"type": "object", "properties": {"day": {"type": "string", "pattern": "^2026-[0-9]{2}-[0-9]{2}$"}},
                   "required": ["day"]}}}]


class Answer(BaseModel):
    answer: str = Field(max_length=40)
    sure: bool


@pytest.fixture(scope="module")
def server(quarry_server):
    return quarry_server


def test_models_endpoint(server):
    data = httpx.get(f"{server}/models").json()
    assert data["object"] == "list" and data["data"][0]["id"] == "local:smollm2-135m"


def test_json_schema_through_the_server(server):
    model = open_model(f"{server}#smol")
    reply = model.chat([{"role": "user", "content": "Is Paris the capital of France? Answer as JSON."}],
                       json_schema=Answer.model_json_schema(), max_tokens=60)
    Answer.model_validate_json(reply.text)
    assert reply.usage.prompt_tokens > 0 and reply.model == f"{server}#smol"


def test_json_object_with_schema_as_llama_cpp_servers_take_it(server):
    client = openai.OpenAI(base_url=server, api_key="none")
    response = client.chat.completions.create(
        model="smol", messages=[{"role": "user", "content": "Give a JSON answer."}], max_tokens=60,
        response_format={"type": "json_object", "schema": Answer.model_json_schema()},  # type: ignore[arg-type]
    )
    Answer.model_validate_json(response.choices[0].message.content)


def test_tool_call_and_tool_result_round_trip(server):
    model = OpenAIModel("smol", base_url=server)
    messages = [{"role": "system", "content": "Use tools to look at the calendar."},
                {"role": "user", "content": "What do I have on 14 March 2026?"}]
    step = model.chat(messages, tools=TOOLS, tool_choice="required", max_tokens=60)
    assert step.finish_reason == "tool_calls" and step.tool_calls[0].name == "calendar_list"
    assert step.tool_calls[0].arguments["day"].startswith("2026-")
    messages.append(step.as_assistant_message())
    messages.append({"role": "tool", "tool_call_id": step.tool_calls[0].id,
                     "content": json.dumps([{"title": "Pickle game", "starts_at": "2026-03-14T10:00"}])})
    final = model.chat(messages, tools=TOOLS, tool_choice="none", max_tokens=30)
    assert final.text and not final.tool_calls and final.finish_reason in ("stop", "length")


def test_streaming_text_and_tool_calls(server):
    client = openai.OpenAI(base_url=server, api_key="none")
    chunks = list(client.chat.completions.create(
        model="smol", messages=[{"role": "user", "content": "Say hello."}], max_tokens=12, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].choices[0].finish_reason in ("stop", "length") and len(chunks) > 3
    calls = [c for c in client.chat.completions.create(
        model="smol", messages=[{"role": "user", "content": "Check my calendar for 2026-03-14."}], tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "calendar_list"}}, max_tokens=60, stream=True)
        if c.choices and c.choices[0].delta.tool_calls]
    assert calls[0].choices[0].delta.tool_calls[0].function.name == "calendar_list"


def test_bad_request_is_an_openai_error(server):
    client = openai.OpenAI(base_url=server, api_key="none", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="json_schema.schema"):
        client.chat.completions.create(model="smol", messages=[{"role": "user", "content": "x"}],
                                       response_format={"type": "json_schema", "json_schema": {"name": "x"}})


def test_fallback_chain_moves_on_from_a_refused_port(server, caplog):
    refused = f"http://127.0.0.1:{free_port()}/v1#nobody"
    chain = open_model(f"{refused},{server}#smol")
    with caplog.at_level("INFO", logger="quarry.llm.specs"):
        reply = chain.chat([{"role": "user", "content": "Say yes."}], max_tokens=5)
    assert reply.model == f"{server}#smol"
    assert "refused" in caplog.text and f"answered by {server}#smol" in caplog.text
    with pytest.raises(ProviderRefused, match="every model in the chain refused"):
        open_model(f"{refused},{refused}").chat([{"role": "user", "content": "x"}], max_tokens=2)


def test_unreachable_server_is_one_clear_line():
    model = OpenAIModel("x", base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0)
    with pytest.raises(ModelError, match=r"cannot connect .*Connection refused"):
        model.chat([{"role": "user", "content": "x"}])


def test_server_errors_are_one_line_model_errors(server):
    model = OpenAIModel("smol", base_url=server, max_retries=0)
    with pytest.raises(ModelError, match=r"request refused \(400\).*tool_choice 'nope' is not one of the offered"):
        model.chat([{"role": "user", "content": "x"}], tools=TOOLS, tool_choice="nope")
