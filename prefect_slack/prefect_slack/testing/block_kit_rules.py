"""Block Kit checks of the test server: the shapes and size limits Slack enforces on a
message's blocks, reported as Slack reports them in `response_metadata.messages`:

    [ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]

Checked: the block types a message may hold, each one's required fields, text objects
(type, non-empty text, emoji/verbatim on the right type) and the lengths of `prefect_slack
.limits`. Not checked: interactive elements' own fields (buttons, menus...) beyond having a
type, and rich_text's inner structure beyond being a list.
"""

from __future__ import annotations

from typing import Any

from prefect_slack import limits

MESSAGE_BLOCK_TYPES = {"section", "header", "divider", "context", "actions", "image",
                       "rich_text", "markdown", "file", "video"}


def block_errors(blocks: Any) -> list[str]:
    """What is wrong with a message's blocks, Slack-style; [] when they are valid."""
    if not isinstance(blocks, list):
        return [_error("must be an array", "/blocks")]
    errors: list[str] = []
    if len(blocks) > limits.MESSAGE_BLOCKS:
        errors.append(_error(f"must provide no more than {limits.MESSAGE_BLOCKS} items",
                             "/blocks"))
    for i, block in enumerate(blocks):
        errors += _block(block, f"/blocks/{i}")
    return errors


def _error(what: str, pointer: str) -> str:
    return f"[ERROR] {what} [json-pointer:{pointer}]"


def _too_long(limit: int, pointer: str) -> str:
    return _error(f"must be less than {limit + 1} characters", pointer)


def _block(block: Any, at: str) -> list[str]:
    if not isinstance(block, dict):
        return [_error("must be an object", at)]
    kind = block.get("type")
    if kind not in MESSAGE_BLOCK_TYPES:
        return [_error(f"unsupported type: {kind!r}", f"{at}/type")]
    errors = []
    block_id = block.get("block_id")
    if block_id is not None and (not isinstance(block_id, str) or len(block_id) > limits.BLOCK_ID):
        errors.append(_too_long(limits.BLOCK_ID, f"{at}/block_id"))
    check = _CHECKS.get(kind)
    return errors + (check(block, at) if check else [])


def _text(obj: Any, at: str, limit: int, types: tuple[str, ...] = ("plain_text", "mrkdwn"),
          required: bool = True) -> list[str]:
    if obj is None:
        return [_error("must provide an object", at)] if required else []
    if not isinstance(obj, dict):
        return [_error("must be an object", at)]
    if obj.get("type") not in types:
        return [_error(f"must be one of {', '.join(types)}", f"{at}/type")]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_error("must be more than 0 characters", f"{at}/text")]
    errors = []
    if len(text) > limit:
        errors.append(_too_long(limit, f"{at}/text"))
    if "emoji" in obj and obj["type"] != "plain_text":
        errors.append(_error("emoji is only allowed on plain_text", f"{at}/emoji"))
    if "verbatim" in obj and obj["type"] != "mrkdwn":
        errors.append(_error("verbatim is only allowed on mrkdwn", f"{at}/verbatim"))
    return errors


def _section(block: dict, at: str) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        return [_error("must provide either text or fields", at)]
    errors = _text(text, f"{at}/text", limits.SECTION_TEXT, required=False)
    if fields is not None:
        if not isinstance(fields, list) or not fields:
            return errors + [_error("must be a non-empty array", f"{at}/fields")]
        if len(fields) > limits.SECTION_FIELDS:
            errors.append(_error(f"must provide no more than {limits.SECTION_FIELDS} items",
                                 f"{at}/fields"))
        for i, field in enumerate(fields):
            errors += _text(field, f"{at}/fields/{i}", limits.SECTION_FIELD_TEXT)
    accessory = block.get("accessory")
    if accessory is not None and not (isinstance(accessory, dict) and accessory.get("type")):
        errors.append(_error("must be an element with a type", f"{at}/accessory"))
    return errors


def _header(block: dict, at: str) -> list[str]:
    return _text(block.get("text"), f"{at}/text", limits.HEADER_TEXT, types=("plain_text",))


def _context(block: dict, at: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_error("must be a non-empty array", f"{at}/elements")]
    errors = []
    if len(elements) > limits.CONTEXT_ELEMENTS:
        errors.append(_error(f"must provide no more than {limits.CONTEXT_ELEMENTS} items",
                             f"{at}/elements"))
    for i, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") == "image":
            errors += _image_fields(element, f"{at}/elements/{i}", needs_title=False)
        else:
            errors += _text(element, f"{at}/elements/{i}", limits.SECTION_TEXT)
    return errors


def _actions(block: dict, at: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_error("must be a non-empty array", f"{at}/elements")]
    errors = []
    if len(elements) > limits.ACTIONS_ELEMENTS:
        errors.append(_error(f"must provide no more than {limits.ACTIONS_ELEMENTS} items",
                             f"{at}/elements"))
    return errors + [_error("must be an element with a type", f"{at}/elements/{i}")
                     for i, e in enumerate(elements)
                     if not (isinstance(e, dict) and e.get("type"))]


def _image_fields(block: dict, at: str, needs_title: bool = True) -> list[str]:
    errors = []
    url, alt = block.get("image_url"), block.get("alt_text")
    if not isinstance(url, str) or not url:
        errors.append(_error("must provide a string", f"{at}/image_url"))
    elif len(url) > limits.IMAGE_URL:
        errors.append(_too_long(limits.IMAGE_URL, f"{at}/image_url"))
    if not isinstance(alt, str) or not alt:
        errors.append(_error("must provide a string", f"{at}/alt_text"))
    elif len(alt) > limits.IMAGE_ALT_TEXT:
        errors.append(_too_long(limits.IMAGE_ALT_TEXT, f"{at}/alt_text"))
    if needs_title:
        errors += _text(block.get("title"), f"{at}/title", limits.IMAGE_TITLE,
                        types=("plain_text",), required=False)
    return errors


def _markdown(block: dict, at: str) -> list[str]:
    text = block.get("text")
    if not isinstance(text, str) or not text:
        return [_error("must be more than 0 characters", f"{at}/text")]
    return [_too_long(limits.MARKDOWN_BLOCK_TEXT, f"{at}/text")] \
        if len(text) > limits.MARKDOWN_BLOCK_TEXT else []


def _rich_text(block: dict, at: str) -> list[str]:
    return [] if isinstance(block.get("elements"), list) else \
        [_error("must be an array", f"{at}/elements")]


_CHECKS = {"section": _section, "header": _header, "context": _context, "actions": _actions,
           "image": _image_fields, "markdown": _markdown, "rich_text": _rich_text}
