"""What every command's user error must look like: exit status 2, one line on stderr, no traceback.

On pytest's ``pythonpath`` (``tests/_support``), shared by the command tests.
"""

from __future__ import annotations

from click.testing import Result


def user_error(result: Result, *fragments: str) -> str:
    """The one error line of `result`, after checking that it holds every fragment."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]
