"""Works around a CPython 3.11 bug that makes schemathesis runs fail at random.

On CPython 3.11.7 (Debian bookworm's python3), `ast.parse` now and then raises
`SystemError: AST constructor recursion depth mismatch` (CPython issue gh-106905). Hypothesis
calls `ast.parse` only to *describe* a lambda in a strategy's repr
(`hypothesis.internal.lambda_sources._lambda_description`). When it raises, Hypothesis reports a
`FlakyFailure` and schemathesis a "Runtime Error": a failure of the tool, not a finding about
Melding. CI failed that way once (stop 21).

This module is imported at interpreter start through `melding_ast_workaround.pth`, which
scripts/schemathesis.sh installs into its own virtual environment only. It wraps the description
function so that this one SystemError yields Hypothesis's own "unknown body" description
(`lambda ...: <unknown>`), which Hypothesis already returns whenever it cannot parse a source.
Nothing about the generated requests or the checks changes.
"""

try:
    import hypothesis.internal.lambda_sources as _lambda_sources
except ImportError:  # pip runs in this environment before Hypothesis is installed
    _lambda_sources = None

_MESSAGE = "AST constructor recursion depth mismatch"


def _lambda_description(f, *args, **kwargs):
    try:
        return _original(f, *args, **kwargs)
    except SystemError as error:
        if _MESSAGE not in str(error):
            raise
        return "lambda: <unknown>"


if _lambda_sources is not None:
    _original = _lambda_sources._lambda_description
    _lambda_sources._lambda_description = _lambda_description
