"""Where put_directory finds a relative ignore_file: in the folder uploaded, where a project
keeps its .prefectignore; else in the working directory, where Prefect's put_directory opens
it. Against moto's server."""

from __future__ import annotations

import pytest

from prefect_aws import LocalPathNotFound


@pytest.fixture
def project(tmp_path):
    """A project folder with its own .prefectignore, and an unrelated working directory."""
    source = tmp_path / "project"
    (source / "flows").mkdir(parents=True)
    (source / "flows" / "etl.py").write_text("flow")
    (source / "debug.log").write_text("noise")
    (source / ".prefectignore").write_text("*.log\n.prefectignore\n")
    (tmp_path / "elsewhere").mkdir()
    return source


def test_a_relative_ignore_file_is_read_from_the_folder_uploaded(server_bucket, project,
                                                                 monkeypatch):
    monkeypatch.chdir(project.parent / "elsewhere")

    count = server_bucket.put_directory(project, "flows", ignore_file=".prefectignore")

    assert count == 1
    assert server_bucket.list_objects() == ["flows/flows/etl.py"]


def test_the_working_directory_is_read_when_the_folder_has_none(server_bucket, project,
                                                                monkeypatch):
    """Prefect opens ignore_file from the working directory: code written for it still runs."""
    (project / ".prefectignore").unlink()
    here = project.parent / "elsewhere"
    (here / "deploy.ignore").write_text("flows/\n")
    monkeypatch.chdir(here)

    assert server_bucket.put_directory(project, ignore_file="deploy.ignore") == 1
    assert server_bucket.list_objects() == ["debug.log"]


def test_an_absolute_ignore_file_is_read_as_it_is(server_bucket, project, tmp_path):
    (tmp_path / "abs.ignore").write_text("flows/\n.prefectignore\n")

    assert server_bucket.put_directory(project, ignore_file=tmp_path / "abs.ignore") == 1
    assert server_bucket.list_objects() == ["debug.log"]


def test_a_missing_ignore_file_names_both_places_and_uploads_nothing(server_bucket, project,
                                                                     monkeypatch):
    here = project.parent / "elsewhere"
    monkeypatch.chdir(here)

    with pytest.raises(LocalPathNotFound) as caught:
        server_bucket.put_directory(project, ignore_file=".gitignore")

    assert str(caught.value) == (
        f"No ignore file '.gitignore' in '{project}' (the folder uploaded) or in the working "
        f"directory '{here}'. Check the ignore_file path.")
    assert server_bucket.list_objects() == []
