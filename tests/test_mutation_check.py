"""tools/mutation_check.py: the mutants it makes (the runs themselves take minutes)."""

import ast

from tests.conftest import load_script

SOURCE = '''
def keep(gain, threshold, scores):
    """A docstring is never mutated."""
    return gain > threshold and scores.argmax(-1) == 0
'''


def test_each_site_gives_one_mutant_that_parses_and_differs():
    tool = load_script("tools", "mutation_check")
    found = [(line, change) for line, change, _ in tool.mutants(SOURCE)]
    assert found == [
        (4, "and -> or"),
        (4, "> -> >="),
        (4, "== -> !="),
        (4, ".argmax -> .argmin"),
        (4, "1 -> 2"),
        (4, "0 -> 1"),
    ]
    original = ast.unparse(ast.parse(SOURCE))
    for _, _, mutated in tool.mutants(SOURCE):
        assert mutated != original and "A docstring is never mutated." in mutated


def test_every_target_names_an_existing_module_and_tests():
    tool = load_script("tools", "mutation_check")
    for module, tests in tool.TARGETS.values():
        assert (tool.ROOT / module).is_file(), module
        assert all((tool.ROOT / test).exists() for test in tests), tests


def test_a_sample_is_seeded_sorted_and_within_the_mutants():
    tool = load_script("tools", "mutation_check")
    assert tool.select(5) == [0, 1, 2, 3, 4]
    assert tool.select(5, max_mutants=2) == [0, 1]
    sample = tool.select(100, sample=10, seed=3)
    assert sample == sorted(set(sample)) and len(sample) == 10 and max(sample) < 100
    assert tool.select(100, sample=10, seed=3) == sample != tool.select(100, sample=10, seed=4)
    assert tool.select(4, sample=10) == [0, 1, 2, 3]


def test_lines_select_the_mutants_of_those_lines_only():
    tool = load_script("tools", "mutation_check")
    assert tool.select(4, lines={7, 9}, mutant_lines=[7, 8, 9, 9]) == [0, 2, 3]


def test_skip_sample_leaves_out_what_earlier_samples_drew():
    tool = load_script("tools", "mutation_check")
    first = tool.select(50, sample=10, seed=22)
    rest = [n for n in range(50) if n not in first]
    second = tool.select(50, sample=10, seed=23, skip=[(10, 22)])
    assert not set(second) & set(first) and set(second) <= set(rest) and len(second) == 10
    third = tool.select(50, skip=[(10, 22), (10, 23)])
    assert sorted(first + second + third) == list(range(50))
