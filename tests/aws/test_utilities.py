"""prefect_aws.utilities: hash_collection, ensure_path_exists, assemble_document_for_patches."""

from __future__ import annotations

from prefect_aws.utilities import assemble_document_for_patches, ensure_path_exists, hash_collection


def test_hash_collection_of_unhashable_nested_data():
    data = {"b": [1, {"c": {2, 3}}], "a": "x"}
    assert hash_collection(data) == hash_collection({"a": "x", "b": [1, {"c": {3, 2}}]})
    assert hash_collection(data) != hash_collection({"a": "y", "b": [1, {"c": {2, 3}}]})


def test_ensure_path_exists_builds_objects_lists_and_items():
    doc: dict = {"keep": 1, "items": [{"a": 1}]}
    path = ["items", "2", "env", "0"]
    ensure_path_exists(doc, path)
    assert doc == {"keep": 1, "items": [{"a": 1}, {}, {"env": [{}]}]}
    assert path == ["items", "2", "env", "0"]


def test_assemble_document_for_patches():
    patches = [{"op": "replace", "path": "/name", "value": "Jane"},
               {"op": "add", "path": "/contact/address", "value": "1 Main St"},
               {"op": "add", "path": "/containers/0/env/-", "value": {}},
               {"op": "remove", "path": "/age"}]
    assert assemble_document_for_patches(patches) == {
        "name": {}, "contact": {}, "containers": [{"env": {}}], "age": {}}
