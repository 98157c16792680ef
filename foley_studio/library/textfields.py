"""Searchable words from a file's path: file-name words, folder names and UCS names.

Sound designers name files in the Universal Category System (UCS) style:
`CatID_FXName_CreatorID_SourceID[_UserData].wav`, where the CatID is an upper-case category code
followed by a capitalised subcategory (`DOORWood`, `METLImpt`, `VEHHorn`). We split the CatID into
category and subcategory and expand the category codes we know into their words, so that
`DOORWood_Heavy Slam_JD_Lib.wav` is found by "door", "wood", "heavy" and "slam".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The UCS main categories (code -> words). Codes outside this table are still split and indexed
# as written; the table only adds the readable word so "aircraft" finds `AIRCJet_...`.
UCS_CATEGORIES: dict[str, str] = {
    "AIR": "air", "AERO": "aircraft", "AIRC": "aircraft", "ALRM": "alarms", "AMB": "ambience",
    "ANML": "animals", "ARCH": "archived", "BEEP": "beeps", "BELL": "bells", "BIRD": "birds",
    "BOAT": "boats", "BLLT": "bullets", "CART": "cartoon", "CERM": "ceramics", "CHAIN": "chains",
    "CHEM": "chemicals", "CLOCK": "clocks", "CLOTH": "cloth", "COMM": "communications",
    "COMP": "computers", "CREA": "creatures", "CROWD": "crowds", "DSGN": "designed",
    "DEST": "destruction", "DIRT": "dirt sand", "DOOR": "doors", "DRWR": "drawers",
    "ELEC": "electricity", "EQUIP": "equipment", "EXPL": "explosions", "FART": "farts",
    "FGHT": "fight", "FIRE": "fire", "FIREWRK": "fireworks", "FOLY": "foley", "FOOD": "food drink",
    "FEET": "footsteps", "GAME": "games", "GEOT": "geothermal", "GLAS": "glass", "GORE": "gore",
    "GUNS": "guns", "GUN": "guns", "HORN": "horns", "HMN": "human", "ICE": "ice", "LASR": "lasers",
    "LETH": "leather", "LIQ": "liquid mud", "MACH": "machines", "MAGC": "magic",
    "MECH": "mechanical", "METL": "metal", "MOTR": "motors", "MOVE": "movement", "MUSC": "musical",
    "NTDIS": "natural disaster", "OBJ": "objects", "PAPR": "paper", "PLAS": "plastic", "RAIN": "rain",
    "ROBO": "robots", "ROCK": "rocks", "ROPE": "rope", "RUBR": "rubber", "SCI": "scifi",
    "SNOW": "snow", "SPRT": "sports", "SWSH": "swooshes", "TOOL": "tools", "TOY": "toys",
    "TRAN": "trains", "TRNS": "trains", "UI": "user interface", "VEGE": "vegetation",
    "VEH": "vehicles", "VOX": "voices", "WATR": "water", "WEAP": "weapons", "WTHR": "weather",
    "WHSTL": "whistles", "WNDW": "windows", "WING": "wings", "WIND": "wind", "WOOD": "wood",
}

_CATID = re.compile(r"^(?P<cat>[A-Z]{2,8})(?P<sub>[A-Z][a-z][A-Za-z]*)(?:-[A-Za-z0-9]+)?$")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_SEPARATORS = re.compile(r"[\s_\-.,;:()\[\]{}+&'\"#!]+")


@dataclass(frozen=True)
class NameFields:
    """The searchable text parsed from one path."""

    name: str         # file-name words, lower-case, space-separated
    folders: str      # folder names below the library root, as words
    category: str     # UCS category words ("doors") or "" when the name is not UCS
    subcategory: str  # UCS subcategory ("wood") or ""
    fx_name: str      # UCS FXName ("Heavy Slam"), else the plain file name as words
    creator: str      # UCS CreatorID or ""


def split_words(text: str) -> list[str]:
    """`HeavyDoor_slam02-take3` -> ['heavy', 'door', 'slam', '02', 'take', '3']."""
    words = []
    for chunk in _SEPARATORS.split(text):
        words.extend(w.lower() for w in _CAMEL.split(chunk) if w)
    return words


def parse_ucs(stem: str) -> tuple[str, str, str, str] | None:
    """(category code, subcategory, fx name, creator) for a UCS-style stem, or None."""
    parts = stem.split("_")
    if len(parts) < 2:
        return None
    m = _CATID.match(parts[0])
    if not m:
        return None
    creator = parts[2] if len(parts) > 2 else ""
    return m["cat"], m["sub"], parts[1], creator


def name_fields(path: Path, root: Path | None = None) -> NameFields:
    """Searchable fields for `path`; folder words are taken below `root` when given."""
    stem = path.stem
    folder_parts = path.parent.relative_to(root).parts if root and path.is_relative_to(root) else path.parent.parts[-3:]
    folders = " ".join(w for part in folder_parts for w in split_words(part))
    ucs = parse_ucs(stem)
    if ucs is None:
        words = " ".join(split_words(stem))
        return NameFields(words, folders, "", "", words, "")
    cat, sub, fx_name, creator = ucs
    category = " ".join(dict.fromkeys([cat.lower(), *UCS_CATEGORIES.get(cat, "").split()]))
    name = " ".join(split_words(" ".join(stem.split("_")[1:])))
    return NameFields(name, folders, category, sub.lower(), fx_name, creator)
