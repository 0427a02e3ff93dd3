"""The built-in translation task: English number words <-> digits.

    312 <-> "three hundred and twelve",  40 <-> "forty",  7 <-> "seven"

British usage ("and" after the hundreds), numbers 0 .. 999 (`digits` = 1, 2 or 3 bounds
them). `number_pairs` splits the numbers with a seed so that the held-out ones are never
seen in training, and holds out only composite numbers (neither below 20 nor a
multiple of ten): every word of a held-out number is seen in training, as nothing
could teach a network that "five" is 5 otherwise.
"""

from __future__ import annotations

import numpy as np

UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
         "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0 <= n <= 999 in words."""
    if not 0 <= n <= 999:
        raise ValueError(f"n: expected an integer in [0, 999], got {n}")
    if n < 20:
        return UNITS[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + UNITS[n % 10])
    rest = n % 100
    return UNITS[n // 100] + " hundred" + ("" if rest == 0 else " and " + number_words(rest))


def number_pairs(digits: int = 3, test_fraction: float = 0.2, seed: int = 0,
                 to_words: bool = False):
    """(train, test) lists of (source, target): words -> digits (or digits -> words)."""
    if digits not in (2, 3):
        raise ValueError(f"digits: expected 2 or 3 (below 10 every number is one word, "
                         f"none can be held out), got {digits}")
    numbers = np.random.default_rng(seed).permutation(10**digits)
    atom = (numbers < 20) | (numbers % 10 == 0)
    n_test = max(1, round(len(numbers) * test_fraction))
    composite = numbers[~atom]
    test, train = composite[:n_test], np.concatenate([numbers[atom], composite[n_test:]])
    return _pairs(train, to_words), _pairs(test, to_words)


def _pairs(numbers, to_words: bool) -> list[tuple[str, str]]:
    pairs = [(number_words(int(n)), str(n)) for n in numbers]
    return [(d, w) for w, d in pairs] if to_words else pairs
