"""Text a user supplied (a file's name, a message quoting a file's cells or a zip's entry names),
made safe for Streamlit's markdown elements (``st.caption``, ``st.error``, ``st.subheader`` …): it
is shown as the literal characters, never rendered (unescaped, a name holding ``![x](http://…)``
makes the browser fetch that URL)."""
from __future__ import annotations

#: ASCII characters that CommonMark, GitHub's extensions (tables, strikethrough, bare links) or
#: Streamlit's own (``:red[…]``, ``:material/…:``, emoji ``:smile:``, LaTeX ``$…$``) act on
ACTIVE = set("\\`*_{}[]()<>#+-.!|~=&@:$")
#: written as character references, which neither markdown nor Streamlit's string-level
#: shortcuts (material icons, emoji, LaTeX detection) read as the character itself
ENTITIES = {":": "&#58;", "$": "&#36;"}
#: between two ASCII letters or digits these start nothing ('my_data-v2.csv' stays as it is)
INTRAWORD = set("._-")


def literal(text: str) -> str:
    """``text`` escaped so that markdown shows exactly its characters. Line breaks become spaces
    (a name is one line); leading spaces are kept as spaces rather than read as indentation."""
    out = []
    for i, ch in enumerate(text):
        if ch in "\r\n":
            out.append(" ")
        elif ch in ENTITIES:
            out.append(ENTITIES[ch])
        elif ch in ACTIVE and not (ch in INTRAWORD and _between_word_characters(text, i)):
            out.append("\\" + ch)
        else:
            out.append(ch)
    body = "".join(out)
    stripped = body.lstrip(" \t")
    return "".join(f"&#{ord(c)};" for c in body[:len(body) - len(stripped)]) + stripped


def _between_word_characters(text: str, i: int) -> bool:
    """text[i] sits between two ASCII letters or digits, and is not the dot of a bare 'www.' link."""
    if not 0 < i < len(text) - 1:
        return False
    before, after = text[i - 1], text[i + 1]
    if text[i] == "." and text[max(0, i - 3):i].lower() == "www":
        return False
    return before.isascii() and before.isalnum() and after.isascii() and after.isalnum()
