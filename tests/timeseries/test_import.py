"""Importing fera_flex and its profile algebra compiles nothing."""

import subprocess
import sys
import textwrap


def run_python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_compiles_no_kernel():
    out = run_python(
        """
        import sys
        import fera_flex
        assert "numba" not in sys.modules, "import fera_flex must not import numba"
        import fera_flex.timeseries
        from fera_flex.timeseries import _kernels
        from numba.core.dispatcher import Dispatcher
        kernels = {n: k for n, k in vars(_kernels).items() if isinstance(k, Dispatcher)}
        assert len(kernels) >= 10, sorted(kernels)
        compiled = sorted(n for n, k in kernels.items() if k.signatures)
        assert not compiled, compiled
        print(len(kernels))
        """
    )
    assert int(out) >= 10


def test_kernels_compile_lazily_on_first_call():
    run_python(
        """
        from fera_flex.timeseries import Profile, _kernels
        assert not _kernels.merge_add.signatures
        Profile([0], [1.0], end_s=10) + Profile([5], [2.0], end_s=20)
        assert len(_kernels.merge_add.signatures) == 1
        assert not _kernels.merge_sub.signatures
        """
    )
