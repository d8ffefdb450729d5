"""The compiled direct loops are generated text: the block in ``fftconv/methods/_compiled.py``
must be exactly what ``tools/gen_compiled.py`` writes, so that the two cannot drift apart."""

import importlib.util
from pathlib import Path

import pytest

from fftconv.methods import _compiled

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "gen_compiled.py"


@pytest.fixture(scope="module")
def generator():
    if not SCRIPT.exists():  # pragma: no cover - an install without the repository's tools
        pytest.skip("needs tools/gen_compiled.py beside the tests (a checkout, or the sdist)")
    spec = importlib.util.spec_from_file_location("gen_compiled", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_loops_are_the_generators_output(generator):
    text = Path(_compiled.__file__).read_text()
    assert generator.MODULE.samefile(_compiled.__file__)
    assert text.count(generator.BEGIN) == 1 and text.count(generator.END) == 1
    assert generator.splice(text) == text, "run python tools/gen_compiled.py and commit the result"
    assert generator.main(["--check"]) == 0


def test_pass_lengths_priced_are_the_generated_ones(generator):
    assert (_compiled.SINGLE_TAPS, _compiled.CHANNEL_TAPS, _compiled.CHANNEL_BLOCK) == (
        generator.SINGLE_TAPS, generator.CHANNEL_TAPS, generator.CHANNEL_BLOCK)


def test_a_changed_block_is_caught(generator):
    text = Path(_compiled.__file__).read_text()
    assert generator.splice(text.replace("orow[o] = v0[o] * w0\n", "orow[o] = v0[o] * w0 * 1\n", 1)) == text
    with pytest.raises(ValueError, match="no block"):
        generator.splice(text.replace(generator.BEGIN, "", 1))
