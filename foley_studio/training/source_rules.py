"""Which real recordings the Foley world uses, what each one is made of, and under which licence.

Data, not code: `sources.py` applies these rules. Every rule was chosen from what the recording
*sounds like* (measured: spectral centroid, energy above 4/8 kHz, attack, decay, onsets; see
`docs/SOUND_SOURCES.md`, written by `scripts/sound_sources_report.py`) together with what the package
itself says the file is (file name, README credits, debian/copyright). A rule whose material is None
keeps a reviewed recording out of the bank, and its note says why.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# material -> the word a caption uses for it (the one place for it)
MATERIAL_WORDS: dict[str, str] = {
    "metal": "metal",
    "wood": "wooden",
    "glass": "glass",
    "plastic": "plastic",
    "paper": "paper",
    "stone": "stone",
    "earth": "dirt",
    "gravel": "gravel",
}
KINDS = ("impact", "texture", "footstep", "close")


class Rule(NamedTuple):
    """A regular expression over "path | caption" (lower case) and what a matching file stands for."""

    pattern: str
    material: str | None          # None: reviewed and left out
    kind: str | None
    licence: str                  # licence and authors, as the package's copyright/credits state them
    note: str                     # what the file is and why it has this label


@dataclass(frozen=True)
class DebianPackage:
    """A Debian package the bank draws on, with the copyright holders its debian/copyright names."""

    name: str
    licence: str
    authors: str
    credits: str = ""             # the file that names per-recording authors, where there is one
    bundles: tuple[str, ...] = () # Qt resource bundles (.rcc) whose sounds are unpacked beside them


DEBIAN_SOURCES: tuple[DebianPackage, ...] = (
    DebianPackage("bucklespring-data", "GPL-2+", "2016 Ico Doornekamp"),
    DebianPackage("sound-theme-freedesktop", "per file: CC-BY-SA-3.0 / CC-BY-3.0 / GPL-2+",
                  "horsthorstensen (camera-shutter); others listed in the copyright file"),
    DebianPackage("minetest-data", "per file: CC-BY-SA-3.0 / CC-BY-3.0 / CC0-1.0 / Expat",
                  "celeron55 (Perttu Ahola) and Minetest contributors",
                  "usr/share/games/minetest/games/minetest_game/mods/{default,doors,xpanes}/README.txt"),
    DebianPackage("tuxpaint-plugins-default", "GPL-2+", "2002-2021 Bill Kendrick",
                  "tuxpaint-data: usr/share/doc/tuxpaint-data/AUTHORS.txt (Sound section)"),
    DebianPackage("csmash-data", "GPL-2+", "2000-2004 Kanna Yoshihiro (CannonSmash)"),
    DebianPackage("kpat", "GPL-2+", "KDE Patience authors (Parker Coates, Stephan Kulow et al)"),
    DebianPackage("gcompris-qt-data", "per file: CC0-1.0 / CC-BY-3.0 (GPL-3+ otherwise)",
                  "Bruno Coudoin and GCompris contributors; sounds: freesound authors named per file",
                  "the package's copyright file (a stanza per sound)",
                  bundles=tuple(f"usr/share/gcompris-qt/rcc/{name}.rcc"
                                for name in ("money", "scalesboard", "memory", "redraw"))),
)

_LIB = "see ATTRIBUTION.md"
_MT = r"minetest_game/mods/"
_MT_DEFAULT = "CC-BY-SA-3.0 (minetest-data, mtg/mods/default/*; "
_MT_DOORS = "CC-BY-3.0 (minetest-data, mtg/mods/doors/sounds/*; "
_TUX = r"tuxpaint/sounds/magic/"
_CAPTION = r" \| .*"

# First match wins: specific files and exclusions before the caption words a new library file may use.
RULES: tuple[Rule, ...] = (
    # ---- demo library (OpenSFX), reviewed one by one
    Rule(r"opensfx_1[79]_", None, None, _LIB,
         "'Crash'/'Big crash' (sagetyrtle's crash.wav) is a vehicle crash: centroid ~0.4 kHz, <1 % of the "
         "energy above 4 kHz; breaking glass is bright, so it is not glass"),
    Rule(r"opensfx_32_", None, None, _LIB,
         "'Splat (rail builds)' is jascha's kick_1.wav, a kick drum (centroid 71 Hz), not earth"),
    Rule(r"opensfx_33_", None, None, _LIB,
         "'Jackhammer' is a pneumatic machine's rattle (18 onsets in 2.6 s), not stone friction"),
    Rule(r"opensfx_40_", None, None, _LIB,
         "'Sawmill' is a circular saw's motor whine, not a wooden object scraping"),
    Rule(r"opensfx_48_", None, None, _LIB,
         "'Toffee quarry' mixes aluminium knocks with a slide whistle: a pitched cartoon sound "
         "(centroid 0.5 kHz, nothing above 4 kHz)"),
    Rule(r"opensfx_54_", None, None, _LIB,
         "'Crashing tree' has no separable onset (no grain can be cut) and is a whole tree falling"),
    Rule(r"opensfx_16_", "metal", "impact", _LIB,
         "'Train/ship breakdown' is 1sticky8's Dumpster_Diving.wav: knocks in a metal bin, bright "
         "(centroid 3.1 kHz, 39 % above 4 kHz)"),
    Rule(r"opensfx_55_", "wood", "impact", _LIB,
         "'Falling tree' is fkurz's cutting_tree.wav: axe chops into wood, 18 sharp onsets"),
    Rule(r"opensfx_39_", "metal", "impact", _LIB,
         "'Building bridge' is l0calh05t's 'in the smithy 2': hammer on anvil, 68 % above 4 kHz"),
    Rule(r"opensfx_14_", "metal", "impact", _LIB, "'Level crossing' is a ringing crossing bell"),
    Rule(r"opensfx_20_", "metal", "impact", _LIB, "'Cash till': bell and drawer, 61 % above 4 kHz"),
    Rule(r"opensfx_(02|31)_", "earth", "impact", _LIB, "'Splat': wet mud thrown onto the ground"),
    Rule(r"opensfx_51_", None, None, _LIB,
         "'Plastic mine' is bubbling liquid (bulle.wav, Phasin-bubbles), not plastic"),
    # ---- bucklespring-data: IBM Model M key switches recorded key by key (press and release)
    Rule(r"buckle/wav/", "plastic", "impact", "GPL-2+ (bucklespring-data, Ico Doornekamp)",
         "keyboard key switches: short plastic clicks, attack < 5 ms, centroid 2-7 kHz"),
    # ---- sound-theme-freedesktop
    Rule(r"freedesktop/stereo/camera-shutter\.oga", "plastic", "impact",
         "CC-BY-SA-3.0 (sound-theme-freedesktop, freesound user horsthorstensen)",
         "a recorded camera shutter: two bright mechanical clicks (centroid 8 kHz)"),
    Rule(r"freedesktop/stereo/(bell|trash-empty|complete)\.oga", None, None,
         "CC-BY-3.0 (sound-theme-freedesktop, Dr. Richard Boulanger et al)",
         "desktop cues by a Csound author: 'trash-empty' is a bright rattle (centroid 3.9 kHz, 8 onsets), "
         "not paper; 'bell' a 0.14 s tone"),
    # ---- heroes-sound-effects (no longer fetched; a cache from older versions may still hold it)
    Rule(r"heroes/sfx/", None, None, "GPL-2+ (heroes-sound-effects)",
         "11.025 kHz game cues: nothing above 5.5 kHz survives, too dull for 48 kHz ground truth"),
    # ---- minetest-data: minetest_game's sounds (credits in each mod's README.txt)
    Rule(_MT + r"default/sounds/default_break_glass\.", "glass", "impact",
         "CC-BY-3.0 (minetest-data; freesound cmusounddesign, Tomlija, lsprice)",
         "breaking glass: very bright (centroid 4-12 kHz, up to 89 % above 8 kHz)"),
    Rule(_MT + r"default/sounds/default_glass_footstep\.", None, None, _MT_DEFAULT + "Mito551)",
         "named a glass footstep but a dull thud (centroid 145 Hz, nothing above 4 kHz)"),
    Rule(_MT + r"default/sounds/default_wood_footstep\.", "wood", "footstep", _MT_DEFAULT + "Mito551)",
         "a step on a wooden floor: hollow knock, centroid 0.5 kHz, 20 ms decay"),
    Rule(_MT + r"default/sounds/default_gravel_footstep\.", "gravel", "footstep", _MT_DEFAULT + "Mito551)",
         "a step on gravel: crunch of several small onsets, centroid 2.6-3.2 kHz"),
    Rule(_MT + r"default/sounds/default_dirt_footstep\.", "earth", "footstep", _MT_DEFAULT + "Mito551)",
         "a step on soil: soft, slow attack (~90 ms), centroid 0.9-1.2 kHz"),
    Rule(_MT + r"default/sounds/default_hard_footstep\.", "stone", "footstep",
         _MT_DEFAULT + "Erdie, freesound 41579, CC-BY-3.0)", "a hard shoe on a stone floor: instant attack, 10 ms decay"),
    Rule(_MT + r"default/sounds/default_metal_footstep\.", "metal", "footstep",
         _MT_DEFAULT + "mypantsfelldown, freesound 398937, CC0-1.0)",
         "a step on a metal plate: heavy, centroid 0.6 kHz"),
    Rule(_MT + r"default/sounds/default_dig_choppy\.", "wood", "impact",
         _MT_DEFAULT + "Sheyvan, freesound 476113, CC0-1.0)", "an axe chopping wood: instant attack, 25 ms decay"),
    Rule(_MT + r"default/sounds/default_dig_cracky\.", "stone", "impact",
         _MT_DEFAULT + "Benboncan, freesound 71823, CC-BY-3.0)", "a pick striking stone: centroid 1.5-1.8 kHz, 20 ms decay"),
    Rule(_MT + r"default/sounds/default_dig_crumbly\.", "earth", "impact", _MT_DEFAULT + "Mito551)",
         "a spade into soil: crumbly, 170 ms decay"),
    Rule(_MT + r"default/sounds/default_gravel_(dig|dug)\.", "gravel", "impact",
         _MT_DEFAULT + "lolamadeus, freesound 179341, CC0-1.0)",
         "a spade into gravel: many tiny stones, centroid 4.7-7.8 kHz"),
    Rule(_MT + r"default/sounds/default_(dig|dug)_metal\.|" + _MT + r"default/sounds/default_place_node_metal\.",
         "metal", "impact",
         _MT_DEFAULT + "yadronoff CC-BY-3.0 (dig_metal); qubodup CC0-1.0 (dug_metal); Ogrebane CC0-1.0 (place_node_metal))",
         "metal knocks and clanks, centroid 0.7-4 kHz"),
    Rule(_MT + r"default/sounds/default_(place_node|dug_node|dig_dig_immediate|dig_oddly_breakable_by_hand)[._]",
         None, None, _MT_DEFAULT + "Mito551)",
         "generic block placing/removing thuds (centroid 0.2-0.8 kHz): no particular material"),
    Rule(_MT + r"default/sounds/default_chest_close\.", "wood", "close",
         _MT_DEFAULT + "sofar, mixed from freesound Sevin7 CC0, Percy Duke, kingsamas, bulbastre CC-BY-3.0, Yoyodaman234 CC0)",
         "a wooden chest lid shutting: creak then knock, centroid 0.8 kHz"),
    Rule(_MT + r"doors/sounds/doors_door_close\.", "wood", "close", _MT_DOORS + "bennstir)",
         "a wooden door shutting: a deep thud (centroid 0.2 kHz)"),
    Rule(_MT + r"doors/sounds/doors_fencegate_close\.", "wood", "close",
         _MT_DOORS + "BarkersPinhead, rivernile7)", "a wooden fence gate and its latch"),
    Rule(_MT + r"doors/sounds/doors_steel_door_close\.", "metal", "close", _MT_DOORS + "HazMatt)",
         "a steel door shutting: bright clank (centroid 2.1 kHz)"),
    Rule(_MT + r"doors/sounds/doors_glass_door_close\.", "glass", "close",
         "CC0-1.0 (minetest-data; freesound SkeetMasterFunk69, 235546)", "a glass door shutting"),
    Rule(_MT + r"xpanes/sounds/xpanes_steel_bar_door_close\.", "metal", "close",
         "CC-BY-SA-3.0 (minetest-data, mtg/mods/xpanes/sounds/*; TumeniNodes)",
         "a barred steel door: the bars ring for 0.4 s"),
    Rule(_MT + r"carts/sounds/carts_cart_moving\.", "metal", "texture",
         "Expat (minetest-data, mtg/mods/carts/*; SmallJoker, PilzAdam and Minetest contributors)",
         "a metal cart rolling on rails: steady rumble with rail-joint clacks"),
    # ---- tuxpaint-plugins-default (credits: tuxpaint-data AUTHORS.txt, "Sound")
    Rule(_TUX + r"calligraphy\.ogg", "paper", "texture",
         "CC-BY-3.0 (tuxpaint-plugins-default; 'Tearing Paper' by Mike Koenig, soundbible.com)",
         "paper tearing: dense crackle, centroid 3.7 kHz, 44 % above 4 kHz"),
    Rule(_TUX + r"blocks\.wav", "plastic", "impact",
         "GPL-2+ (tuxpaint-plugins-default; recorded by Bill Kendrick)",
         "a stack of plastic NES cartridges knocking together"),
    Rule(_TUX + r"fold\.ogg", "plastic", "impact",
         "public domain (tuxpaint-plugins-default; 'Ping pong game' by Aldor, cropped by Caroline Ford)",
         "a celluloid ping-pong ball bouncing"),
    # ---- csmash-data: table tennis
    Rule(r"csmash/wav/(table|racket)\.wav", "plastic", "impact", "GPL-2+ (csmash-data, Kanna Yoshihiro)",
         "a celluloid table-tennis ball on the table / the racket: hollow tock, centroid 1.2-1.6 kHz"),
    # ---- kpat: card sounds (the recordings carry a DC offset, removed on loading)
    Rule(r"kpat/sounds/card-(down|pickup)\.ogg", "paper", "impact",
         "GPL-2+ (kpat; KDE Patience authors: Parker Coates, Stephan Kulow et al)",
         "a playing card laid on / lifted off a table: papery snap, centroid 2.8-3.1 kHz without the DC offset"),
    # ---- gcompris-qt-data (sounds unpacked from its .rcc bundles; licences from debian/copyright)
    Rule(r"activities/money/resource/money1\.wav", "metal", "impact",
         "CC0-1.0 (gcompris-qt-data; florian_reinke, freesound 63523)", "coins dropped: 5 bright onsets"),
    Rule(r"activities/money/resource/money2\.wav", "metal", "impact",
         "CC0-1.0 (gcompris-qt-data; keweldog, freesound 181761)", "coins: 4 onsets, 68 % above 4 kHz"),
    Rule(r"activities/scalesboard/resource/metal_hit\.wav", "metal", "impact",
         "CC-BY-3.0 (gcompris-qt-data; jorickhoofd, freesound 160045)", "a metal hit that rings for 0.2 s"),
    Rule(r"activities/memory/resource/card_flip\.wav", "paper", "impact",
         "CC-BY-3.0 (gcompris-qt-data; f4ngy, freesound 240776)", "a paper card flicked over: one papery snap"),
    Rule(r"activities/redraw/resource/brush\.wav", "paper", "texture",
         "CC0-1.0 (gcompris-qt-data; acrober, freesound 86113)", "a brush stroke on paper: bright friction"),
    Rule(r"activities/redraw/resource/eraser\.wav", None, None,
         "CC0-1.0 (gcompris-qt-data; esperri, freesound 119143)",
         "an eraser, but dark (centroid 0.25 kHz) and only 0.35 s: not a usable paper friction"),
    # ---- caption words (after the " | " that separates path and caption), for library recordings added later
    Rule(_CAPTION + r"(toilet paper|paper roll|tearing paper|cardboard)", "paper", "texture", _LIB, "paper caption"),
    Rule(_CAPTION + r"(cash till|coin)", "metal", "impact", _LIB, "coins and tills are metal"),
    Rule(_CAPTION + r"\b(metal|steel|iron|anvil)", "metal", "impact", _LIB, "metal caption"),
    Rule(_CAPTION + r"(splat|\bmud\b|\bdirt\b|\bsoil\b)", "earth", "impact", _LIB, "earth caption"),
    Rule(_CAPTION + r"gravel", "gravel", "impact", _LIB, "gravel caption"),
    Rule(_CAPTION + r"\b(stone|rock\b|brick)", "stone", "impact", _LIB, "stone caption"),
    Rule(_CAPTION + r"\b(wood|timber)", "wood", "impact", _LIB, "wood caption"),
    Rule(_CAPTION + r"\bglass", "glass", "impact", _LIB, "glass caption"),
    Rule(_CAPTION + r"\bplastic", "plastic", "impact", _LIB, "plastic caption"),
)
