"""Slack's documented message limits: the alert builder keeps to them, the test server
enforces them.

From Slack's reference for chat.postMessage and Block Kit (blocks, block elements, composition
objects). Only the limits a message of text, sections, headers, context, images, dividers,
actions and attachments can hit are listed; interactive elements' own limits are not checked.
"""

MESSAGE_TEXT = 40_000  # chat.postMessage `text`; longer is `msg_too_long`
MESSAGE_BLOCKS = 50  # blocks in one message (modals and Home tabs allow 100)
MESSAGE_ATTACHMENTS = 100  # `too_many_attachments` beyond
BLOCK_ID = 255
SECTION_TEXT = 3_000
SECTION_FIELDS = 10  # items in a section's `fields`
SECTION_FIELD_TEXT = 2_000
HEADER_TEXT = 150  # plain_text only
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
IMAGE_URL = 3_000
IMAGE_ALT_TEXT = 2_000
IMAGE_TITLE = 2_000
MARKDOWN_BLOCK_TEXT = 12_000
