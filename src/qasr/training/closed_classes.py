"""The closed classes of the everyday-English grammar: the words and phrases it writes itself.

Pronouns, auxiliaries, determiners, prepositions, time phrases, places and family words; the open
classes (nouns, verbs, adjectives, adverbs) come from `qasr.training.lexicon` instead.
"""

from __future__ import annotations


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# Verbs that take no object ("she arrived the car" is not English); they get a place or time.
_INTRANSITIVE_TEXT = (
    "arrive come go happen sleep die laugh smile cry wait live stay exist appear disappear "
    "agree talk travel complain rise fall sit lie hurry swim breathe relax rest listen"
)
INTRANSITIVE = frozenset(_INTRANSITIVE_TEXT.split())
# Verbs whose object is a clause ("I think that ...") and never a thing.
CLAUSE_VERBS = ("think", "believe", "know", "hope", "guess", "feel", "hear", "realize", "remember")
PLACES = _phrases(
    "London|Paris|New York|Chicago|Boston|Texas|California|Canada|Japan|China|India|"
    "France|Germany|Italy|Spain|Mexico|Australia|Europe|Africa|Asia|America|England|"
    "Scotland|Ireland|Toronto|Sydney|Seattle|Dallas|Miami|Berlin|Tokyo|Moscow|Rome|"
    "Madrid|Florida|Washington"
)
PLACE_PREPOSITIONS = _phrases(
    "in|on|at|near|behind|under|next to|across|inside|outside|around|from|into|through"
)
SUBJECT_PRONOUNS = ("I", "you", "he", "she", "we", "they")
BE = {"I": ("am", "was"), "you": ("are", "were"), "we": ("are", "were"), "they": ("are", "were")}
CONTRACTED_BE = {
    "I": "I'm",
    "you": "you're",
    "he": "he's",
    "she": "she's",
    "we": "we're",
    "they": "they're",
    "it": "it's",
}
PLURAL_DETERMINERS = _phrases("the|some|many|these|those|my|our|a few|all the|their|no|several")
MODALS = ("can", "could", "should", "would", "will", "might", "must")
FREQUENCY = ("always", "never", "often", "sometimes", "usually", "really", "just", "also")
INTENSIFIERS = ("very", "really", "quite", "so", "too", "pretty", "a little")
RELATIVES = _phrases(
    "mother|father|brother|sister|friend|boss|teacher|cousin|doctor|son|daughter|wife|"
    "husband|family|partner"
)
PAST_TIMES = _phrases(
    "yesterday|last night|last week|last year|this morning|two days ago|"
    "a few minutes ago|last month|earlier today|the other day"
)
FUTURE_TIMES = _phrases(
    "tomorrow|tonight|next week|next year|later|soon|this weekend|next month|"
    "in a few minutes|after lunch"
)
PRESENT_TIMES = _phrases(
    "every day|every morning|at night|in the morning|at the weekend|in the evening|"
    "every week|most days|now|today"
)
WANTING = frozenset(("want", "need", "like", "love", "try", "plan", "hope", "forget", "decide"))
CONJUNCTIONS = ("and", "but", "because", "so", "when", "while", "before", "after", "if")
