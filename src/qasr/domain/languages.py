"""The languages Qwen3-ASR recognises, with ISO codes and the aliases people type.

The 30 languages are the official `SUPPORTED_LANGUAGES` of `qwen_asr`, in its order; their
canonical names are the exact strings the model writes after `language ` in its output. The 22
Chinese dialects are recognised by the model but are not prompt languages: forcing one forces its
`prompt_name` (Chinese, or Cantonese for the Cantonese accents).
"""

from __future__ import annotations

import difflib
import enum

import attrs

from qasr.errors import UnknownLanguageError


class LanguageKind(enum.Enum):
    LANGUAGE = "language"
    DIALECT = "dialect"


@attrs.frozen
class Language:
    name: str
    code: str  # ISO 639-1 where one exists, else ISO 639-3 ("yue", "fil"), else "zh-<region>"
    kind: LanguageKind = LanguageKind.LANGUAGE
    parent: str | None = None  # the prompt language a dialect falls back to
    aliases: tuple[str, ...] = ()

    @property
    def prompt_name(self) -> str:
        """The name the model is forced with: `language {prompt_name}<asr_text>`."""
        return self.parent if self.parent is not None else self.name

    @property
    def display_name(self) -> str:
        """The name, with the language a dialect is forced as unless the name already starts
        with it: "Sichuan (Chinese)", but "Cantonese (Hong Kong)"."""
        if self.parent is None or self.name.split(" (")[0] == self.parent:
            return self.name
        return f"{self.name} ({self.parent})"

    @property
    def is_spaceless(self) -> bool:
        """Written without spaces between words, so chunk texts join with ''."""
        return self.prompt_name in _SPACELESS

    def __str__(self) -> str:
        return self.name


_SPACELESS = frozenset({"Chinese", "Japanese", "Cantonese", "Thai"})

_L = LanguageKind.LANGUAGE
_D = LanguageKind.DIALECT

LANGUAGES: tuple[Language, ...] = (
    Language(
        "Chinese",
        "zh",
        aliases=("zh-cn", "zh-hans", "zh-tw", "zh-hant", "cmn", "mandarin", "zho", "chi"),
    ),
    Language("English", "en", aliases=("en-us", "en-gb", "en-au", "en-ca", "en-in", "eng")),
    Language("Cantonese", "yue", aliases=("zh-hk", "zh-yue", "yue-hk")),
    Language("Arabic", "ar", aliases=("ara",)),
    Language("German", "de", aliases=("de-de", "de-at", "de-ch", "deu", "ger")),
    Language("French", "fr", aliases=("fr-fr", "fr-ca", "fra", "fre")),
    Language("Spanish", "es", aliases=("es-es", "es-mx", "spa", "castilian")),
    Language("Portuguese", "pt", aliases=("pt-pt", "pt-br", "por")),
    Language("Indonesian", "id", aliases=("ind", "bahasa indonesia")),
    Language("Italian", "it", aliases=("ita",)),
    Language("Korean", "ko", aliases=("ko-kr", "kor")),
    Language("Russian", "ru", aliases=("ru-ru", "rus")),
    Language("Thai", "th", aliases=("tha",)),
    Language("Vietnamese", "vi", aliases=("vie",)),
    Language("Japanese", "ja", aliases=("ja-jp", "jpn", "jp")),
    Language("Turkish", "tr", aliases=("tur",)),
    Language("Hindi", "hi", aliases=("hin",)),
    Language("Malay", "ms", aliases=("msa", "may", "zsm")),
    Language("Dutch", "nl", aliases=("nl-nl", "nl-be", "nld", "dut", "flemish")),
    Language("Swedish", "sv", aliases=("swe",)),
    Language("Danish", "da", aliases=("dan",)),
    Language("Finnish", "fi", aliases=("fin",)),
    Language("Polish", "pl", aliases=("pol",)),
    Language("Czech", "cs", aliases=("ces", "cze")),
    Language("Filipino", "fil", aliases=("tl", "tagalog", "tgl")),
    Language("Persian", "fa", aliases=("fas", "per", "farsi")),
    Language("Greek", "el", aliases=("ell", "gre")),
    Language("Romanian", "ro", aliases=("ron", "rum", "moldavian")),
    Language("Hungarian", "hu", aliases=("hun",)),
    Language("Macedonian", "mk", aliases=("mkd", "mac")),
    # The 22 Chinese dialects of the Qwen3-ASR model card.
    Language("Anhui", "zh-anhui", _D, "Chinese"),
    Language("Dongbei", "zh-dongbei", _D, "Chinese", ("northeastern mandarin",)),
    Language("Fujian", "zh-fujian", _D, "Chinese"),
    Language("Gansu", "zh-gansu", _D, "Chinese"),
    Language("Guizhou", "zh-guizhou", _D, "Chinese"),
    Language("Hebei", "zh-hebei", _D, "Chinese"),
    Language("Henan", "zh-henan", _D, "Chinese"),
    Language("Hubei", "zh-hubei", _D, "Chinese"),
    Language("Hunan", "zh-hunan", _D, "Chinese"),
    Language("Jiangxi", "zh-jiangxi", _D, "Chinese"),
    Language("Ningxia", "zh-ningxia", _D, "Chinese"),
    Language("Shandong", "zh-shandong", _D, "Chinese"),
    Language("Shaanxi", "zh-shaanxi", _D, "Chinese"),
    Language("Shanxi", "zh-shanxi", _D, "Chinese"),
    Language("Sichuan", "zh-sichuan", _D, "Chinese", ("sichuanese",)),
    Language("Tianjin", "zh-tianjin", _D, "Chinese"),
    Language("Yunnan", "zh-yunnan", _D, "Chinese"),
    Language("Zhejiang", "zh-zhejiang", _D, "Chinese"),
    Language("Cantonese (Hong Kong)", "yue-hk-accent", _D, "Cantonese", ("hong kong cantonese",)),
    Language("Cantonese (Guangdong)", "yue-gd", _D, "Cantonese", ("guangdong cantonese",)),
    Language("Wu", "wuu", _D, "Chinese", ("shanghainese", "wu chinese")),
    Language("Minnan", "nan", _D, "Chinese", ("hokkien", "min nan", "taiwanese")),
)


def _key(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", "-").split())


_INDEX: dict[str, Language] = {}
for _language in LANGUAGES:
    for _k in (_language.name, _language.code, *_language.aliases):
        _INDEX.setdefault(_key(_k), _language)


def prompt_languages() -> tuple[Language, ...]:
    """The 30 languages the model can be forced to (`language X<asr_text>`)."""
    return tuple(language for language in LANGUAGES if language.kind is _L)


def find_language(name: str | Language) -> Language:
    """Look up a language by canonical name, ISO code or alias, ignoring case.

    Unknown names raise `UnknownLanguageError` listing the closest matches.
    """
    if isinstance(name, Language):
        return name
    key = _key(str(name))
    if key in _INDEX:
        return _INDEX[key]
    # "en_US", "pt-BR-x-foo": fall back to the primary subtag.
    primary = key.split("-")[0]
    if primary and primary in _INDEX and primary != key:
        return _INDEX[primary]
    close = difflib.get_close_matches(key, list(_INDEX), n=4, cutoff=0.6)
    names = sorted({_INDEX[c].name for c in close})
    hint = f" Did you mean: {', '.join(names)}?" if names else ""
    raise UnknownLanguageError(
        f"unknown language {name!r}.{hint} Run `qasr --list-languages` for all supported names."
    )
