"""How tests/docs reads a README and reports an example that fails: its line and its error."""

import os
import sys
from pathlib import Path

import pytest

from tests.docs.readme_examples import read_examples
from tests.docs.test_readme_examples import Section

README = '''# Tool

## Install

<!-- example: pip and make lines not run, they install -->
```bash
pip install tool
blocks types
```

## Use

```python
x = 1
raise ValueError("boom")
```

```bash
true
false
```

```console
$ echo hello
goodbye
```

```python
# pkg/plugin.py
import json
# pkg/other.py: imported later
VALUE = 1
```

```toml
[not.an.example]
```
'''


@pytest.fixture
def readme(tmp_path) -> Path:
    path = tmp_path / "README.md"
    path.write_text(README)
    return path


@pytest.fixture
def section(tmp_path):
    folder = tmp_path / "section"
    (folder / "work").mkdir(parents=True)
    env = {**os.environ, "CORE_BLOCKS_HOME": str(tmp_path / "home"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    running = Section("README.md", "Use", folder, env, {})
    yield running
    running.close()


def test_fences_are_read_with_their_section_line_and_marks(readme):
    examples = read_examples(readme.name, readme.parent)

    assert [(e.line, e.section, e.kind) for e in examples] == [
        (6, "Install", "bash"), (13, "Use", "python"), (18, "Use", "bash"),
        (23, "Use", "console"), (28, "Use", "files")]
    assert examples[0].skipped_lines == [7]
    assert examples[0].runnable_code() == "\nblocks types\n"
    assert list(examples[-1].files()) == ["pkg/plugin.py", "pkg/other.py"]


def test_an_unknown_mark_is_refused_with_the_forms_it_takes(tmp_path):
    (tmp_path / "README.md").write_text("<!-- example: skip it -->\n```bash\nls\n```\n")

    with pytest.raises(ValueError, match="README.md:1: unknown example mark 'skip it'"):
        read_examples("README.md", tmp_path)


@pytest.mark.parametrize(("index", "message"), [
    (1, "README.md line 15: ValueError: boom"),
    (2, "README.md line 20: the command failed (exit 1)"),
    (3, "README.md line 24: expected exit 0 and 'goodbye'; got exit 0 and 'hello'"),
])
def test_a_failing_example_names_its_readme_line_and_error(readme, section, index, message):
    example = read_examples(readme.name, readme.parent)[index]
    example.readme = str(readme)  # the runner reads the README there, for tracebacks

    reply = section.run(example)

    assert not reply["ok"]
    assert message in reply["error"].replace(str(readme), "README.md")
