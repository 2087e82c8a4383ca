"""SecretLogFilter: what an integration puts on its SDK's loggers to keep secrets out."""

import logging
import re

from core_blocks.log_masking import MASK, SecretLogFilter


def test_values_and_patterns_are_masked_in_records_of_every_installed_logger(caplog, canary):
    hide = SecretLogFilter("test", patterns=[re.compile(r"(token:\s*)\S+"),
                                             re.compile(r"sk_[a-z0-9]+")])
    hide.add_values(canary, None, "abc")  # None is skipped; "abc" is too short to mask
    hide.install(["sdk.http", "sdk.auth", "sdk.http"])
    caplog.set_level(logging.DEBUG)

    logging.getLogger("sdk.http").debug("POST %s token: t0k3n-x body=%s", "/v1", canary)
    logging.getLogger("sdk.auth").debug("signing with sk_live42 for abc")
    logging.getLogger("sdk").debug("parent logger: %s", canary)  # not installed there

    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == f"POST /v1 token: {MASK} body={MASK}"
    assert messages[1] == f"signing with {MASK} for abc"
    assert canary in messages[2]
    assert logging.getLogger("sdk.http").filters.count(hide) == 1


def test_a_longer_value_holding_a_shorter_one_is_masked_whole():
    hide = SecretLogFilter("test")
    hide.add_values("pass", "password-1234")

    assert hide.values == ("password-1234", "pass")
    assert hide.mask("x=password-1234 y=pass") == f"x={MASK} y={MASK}"
    assert hide.mask("x=password-1234", values=()) == "x=password-1234"


def test_a_record_that_cannot_be_formatted_is_left_to_its_handler():
    hide = SecretLogFilter("test")
    record = logging.LogRecord("sdk", logging.DEBUG, __file__, 1, "%d", ("not a number",), None)

    assert hide.filter(record) is True
    assert record.args == ("not a number",)
