"""Numbers, years, dates, times and prices written as the words a speaker says.

The corpus writes every number in words, so the transcript holds exactly what espeak-ng speaks:
"on March twenty first", "in nineteen eighty four", "at a quarter to eight". Compound numbers are
written with spaces ("twenty one"), the form `normalize_transcript` and a word count agree on.
"""

from __future__ import annotations

import random

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
ORDINAL_ONES = (
    "",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
)
ORDINAL_TENS = ("", "", "twentieth", "thirtieth")
# Every word the functions below can write (the vocabulary check of the tests and the corpus).
NUMBER_VOCABULARY = frozenset(
    {*ONES, *TENS[2:], *ORDINAL_ONES[1:], *ORDINAL_TENS[2:], "hundred", "thousand", "oh"}
    | {"o'clock", "half", "past", "quarter", "to", "a", "and", "dollars", "dollar", "cents"}
    | {"cent", "pounds", "pound", "percent"}
)


def number_words(n: int) -> str:
    """0 <= n < 1,000,000 in words: 'four thousand two hundred seven'."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"{n} is out of range")
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS[tens] + (f" {ONES[ones]}" if ones else "")
    for size, name in ((1000, "thousand"), (100, "hundred")):
        if n >= size:
            high, rest = divmod(n, size)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def ordinal_words(day: int) -> str:
    """1 <= day <= 31 as an ordinal: 'twenty first'."""
    if not 1 <= day <= 31:
        raise ValueError(f"{day} is not a day of the month")
    if day < 20:
        return ORDINAL_ONES[day]
    tens, ones = divmod(day, 10)
    return ORDINAL_TENS[tens] if not ones else f"{TENS[tens]} {ORDINAL_ONES[ones]}"


def year_words(year: int) -> str:
    """1100 <= year <= 2099 as said: 'nineteen oh five', 'two thousand nine', 'twenty twenty'."""
    if not 1100 <= year <= 2099:
        raise ValueError(f"{year} is out of range")
    if 2000 <= year < 2010:
        return number_words(year)
    century, rest = divmod(year, 100)
    if rest == 0:
        return f"{number_words(century)} hundred"
    tail = f"oh {ONES[rest]}" if rest < 10 else number_words(rest)
    return f"{number_words(century)} {tail}"


def clock_words(hour: int, minute: int) -> str:
    """A time on a 12-hour clock, 1 <= hour <= 12, minute a multiple of five."""
    if not 1 <= hour <= 12 or not 0 <= minute < 60 or minute % 5:
        raise ValueError(f"{hour}:{minute:02d} is not a time this writes")
    if minute == 0:
        return f"{ONES[hour]} o'clock"
    if minute < 10:
        return f"{ONES[hour]} oh {ONES[minute]}"
    return f"{ONES[hour]} {number_words(minute)}"


def random_time(rng: random.Random) -> str:
    """'seven thirty', 'half past six', 'a quarter to eight', 'ten o'clock'."""
    hour = rng.randint(1, 12)
    style = rng.random()
    if style < 0.15:
        return f"half past {ONES[hour]}"
    if style < 0.25:
        return f"a quarter {rng.choice(('past', 'to'))} {ONES[hour]}"
    if style < 0.4:
        return ONES[hour]
    return clock_words(hour, 5 * rng.randint(0, 11))


def random_count(rng: random.Random) -> int:
    """A count for "N things": mostly small, sometimes in the hundreds or thousands."""
    return rng.choice(
        (
            rng.randint(2, 12),
            rng.randint(2, 12),
            rng.randint(13, 99),
            rng.randint(100, 999),
            rng.randint(1000, 99_999),
        )
    )


def random_price(rng: random.Random) -> str:
    """'twenty five dollars', 'one pound', 'three dollars and fifty cents'."""
    amount = rng.choice((rng.randint(1, 20), rng.randint(21, 999)))
    currency = rng.choice(("dollar", "pound"))
    price = f"{number_words(amount)} {currency}{'s' if amount != 1 else ''}"
    if currency == "dollar" and rng.random() < 0.3:
        cents = rng.randint(1, 99)
        price += f" and {number_words(cents)} cent{'s' if cents != 1 else ''}"
    return price


def random_date(rng: random.Random) -> str:
    """'March twenty first' (the month first, as in American English)."""
    return f"{rng.choice(MONTHS)} {ordinal_words(rng.randint(1, 28))}"
