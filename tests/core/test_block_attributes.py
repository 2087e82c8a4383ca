"""The authoring contract: the class attributes a block author sets, checked at definition."""

import pytest

from core_blocks import Block
from core_blocks.abstract import NotificationBlock
from core_blocks.block_attributes import BLOCK_ATTRIBUTES


def define(**attributes):
    """Define a block class with these class attributes (and one field)."""
    namespace = {"__annotations__": {"x": int}, "x": 1, **attributes}
    return type("Authored", (Block,), namespace)


def test_prefect_spelt_attributes_are_kept_as_written():
    cls = define(_block_type_name="Data Lake", _block_type_slug="test-attrs-lake",
                 _description="Where raw files land.", _logo_url="https://example.org/l.png",
                 _documentation_url="https://example.org/docs", _code_example="Lake.load('x')",
                 _capabilities=("read-path",))

    assert (cls._block_type_name, cls._block_type_slug) == ("Data Lake", "test-attrs-lake")
    assert cls._logo_url == "https://example.org/l.png"
    assert cls._code_example == "Lake.load('x')"
    assert cls.schema()["block_capabilities"] == ["read-path"]
    assert cls.schema()["description"] == "Where raw files land."


def test_a_capabilities_list_becomes_a_tuple():
    cls = define(_block_type_slug="test-attrs-list", _capabilities=["read-path", "write-path"])

    assert cls._capabilities == ("read-path", "write-path")


@pytest.mark.parametrize(("attributes", "message"), [
    ({"_block_type_nme": "Lake"},
     "Authored._block_type_nme is not a block attribute; did you mean _block_type_name?"),
    ({"_descripton": "x"}, "did you mean _description?"),
    ({"_logo_uri": "https://example.org/l.png"}, "did you mean _logo_url?"),
    ({"_block_schema_version": "1"}, "Authored._block_schema_version is not a block attribute"),
    ({"_capabilities": "notify"}, "Authored._capabilities must be a tuple of kebab-case names"),
    ({"_capabilities": ("Read Path",)}, "_capabilities must be a tuple of kebab-case names"),
    ({"_block_type_slug": "Data_Lake"}, "_block_type_slug must be kebab-case text"),
    ({"_block_type_name": ""}, "_block_type_name must be a non-empty string"),
    ({"_documentation_url": "docs.example.org"}, "must be None or an http(s):// URL, not str"),
    ({"_logo_url": 3}, "Authored._logo_url must be None or an http(s):// URL, not int 3."),
    ({"_description": ["x"]}, "Authored._description must be a string, not list"),
])
def test_a_misspelt_or_wrongly_typed_attribute_fails_at_the_class_statement(attributes, message):
    with pytest.raises(TypeError) as caught:
        define(**attributes)

    assert message in str(caught.value)


def test_the_error_lists_every_attribute_an_author_may_set():
    with pytest.raises(TypeError) as caught:
        define(_block_type_nme="x")

    assert str(caught.value).endswith(f"block attributes are: {', '.join(BLOCK_ATTRIBUTES)}.")


def test_an_authors_own_private_attributes_and_methods_are_left_alone():
    class Pager(NotificationBlock):
        _block_type_slug = "test-attrs-pager"
        _client = None
        target: str

        def _descriptions(self):  # a method near a contract name is not an attribute
            return []

        def notify(self, body, subject=None):
            pass

    assert Pager(target="t")._descriptions() == []
    assert Pager._capabilities == ("notify",)


def test_the_contract_is_documented_in_block_and_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for name in BLOCK_ATTRIBUTES:
        assert f"`{name}`" in Block.__doc__
        assert f"`{name}`" in readme
