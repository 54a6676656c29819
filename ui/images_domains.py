"""Section 1 of the Images page: two image domains (built-in sets or uploads), previewed, checked
to have the same size and colour."""
from __future__ import annotations

import hashlib

import streamlit as st

from otcore.images import BUILTIN, ImageDomain, ImageLoadError, load_domain, split_gallery
from otcore.images.domains import IMAGE_SUFFIXES, MODES
from otcore.viz.images import fit_scale, grid_figure

from .literal import literal
from .page import default

Parts = tuple[ImageDomain, ImageDomain]      # (training images, held-out gallery)


@st.cache_resource(show_spinner=False)
def builtin(name: str) -> tuple[ImageDomain, ImageDomain]:
    """Immutable built-in data (training images, gallery), shared by all sessions."""
    return BUILTIN[name]()


def scale_for(size: int) -> int:
    return fit_scale(size, 256)


def smooth() -> bool:
    """Draw upscaled images bicubically (the toggle in section 1) rather than as raw pixels."""
    return bool(st.session_state.get("img_smooth", True))


def domain_picker(side: str, col, default_name: str) -> Parts | None:
    """Widgets for one domain; returns (training images, gallery) or None (with the reason shown)."""
    with col:
        st.markdown(f"**Domain {side}** ({'t = 0' if side == 'A' else 't = 1'})")
        kind = st.radio(f"Images of domain {side}", ["Built-in", "Upload"], horizontal=True,
                        key=default(f"img_kind_{side}", "Built-in"))
        if kind == "Built-in":
            name = st.selectbox("Built-in set", list(BUILTIN), key=default(f"img_builtin_{side}", default_name))
            return builtin(name)
        files = st.file_uploader(f"Images for {side}: a zip, or several PNG/JPEG files",
                                 type=[s.lstrip(".") for s in IMAGE_SUFFIXES] + ["zip"],
                                 accept_multiple_files=True, key=f"img_up_{side}")
        size, mode = st.session_state["img_size"], st.session_state["img_mode"]
        stored = st.session_state.get(f"images.uploaded_{side}")
        if not files:
            if stored is not None and stored[0][1:] == (size, mode):
                st.caption(f"Using the {len(stored[1][0]) + len(stored[1][1])} images uploaded earlier "
                           "(upload again to change them).")
                return stored[1]
            st.info("Upload at least 10 images (or a zip of them).")
            return None
        digest = hashlib.sha1(b"".join(f.file_id.encode() for f in files)).hexdigest()
        key = (digest, size, mode)
        if stored is not None and stored[0] == key:
            return stored[1]
        try:
            domain = load_domain([(f.name, f.getvalue()) for f in files], size, mode, name=f"uploaded {side}")
        except ImageLoadError as err:
            st.error(literal(str(err)), icon=":material/warning:")
            if stored is not None and stored[0][1:] == (size, mode):
                st.caption("Still using the images uploaded before.")
                return stored[1]
            return None
        if domain.skipped:
            with st.expander(f"{len(domain.skipped)} file(s) skipped"):
                for name, reason in domain.skipped:
                    st.caption(literal(f"{name}: {reason}"))
        parts = split_gallery(domain)
        st.session_state[f"images.uploaded_{side}"] = (key, parts)
        return parts


def domains_section() -> tuple[Parts, Parts] | None:
    """The section; returns (A, B) or None (with the reason shown)."""
    st.subheader("1 · Two image domains")
    default("img_size", 16)
    default("img_mode", "grey")
    if "Upload" in (st.session_state.get("img_kind_A"), st.session_state.get("img_kind_B")):
        c = st.columns(2)
        c[0].selectbox("Uploaded images are resized to", [8, 16, 32, 64], key="img_size",
                       format_func=lambda s: f"{s} × {s} pixels")
        c[1].selectbox("Colour", list(MODES), key="img_mode", format_func=lambda m: {"grey": "grey", "rgb": "RGB"}[m])
    st.toggle("Smooth upscaling (bicubic; off shows the raw pixels)", key=default("img_smooth", True))
    cols = st.columns(2, gap="large")
    a = domain_picker("A", cols[0], "digit 3")
    b = domain_picker("B", cols[1], "digit 8")
    for parts, col in ((a, cols[0]), (b, cols[1])):
        if parts is not None:
            train, gallery = parts
            col.plotly_chart(grid_figure(train.images[:8][None], scale=fit_scale(train.size, 64), pad=3,
                                         smooth=smooth()),
                             key=f"img_preview_{'A' if col is cols[0] else 'B'}", width="stretch")
            col.caption(f"{len(train)} training images and {len(gallery)} held-out gallery images, "
                        f"{train.size} × {train.size} {'grey' if train.channels == 1 else 'RGB'}.")
    if a is None or b is None:
        return None
    if max(a[0].size, b[0].size) > 8 or 3 in (a[0].channels, b[0].channels):
        st.caption("Larger or colour images train a few times slower than the 8 × 8 digits; a latent size of "
                   "8–16 keeps more of their detail. For 32 × 32 RGB images the settings below switch to a "
                   "narrower network that trains in about two minutes on one CPU core.")
    if a[0].images.shape[1:] != b[0].images.shape[1:]:
        st.error(f"Domain A is {_shape(a[0])} and domain B is {_shape(b[0])}: both domains need the same size "
                 "and colour (built-in digits are 8 × 8 grey, photo patches 16 × 16 RGB, drawn shapes 32 × 32 RGB; "
                 "uploads follow the settings above).", icon=":material/warning:")
        return None
    return a, b


def _shape(d: ImageDomain) -> str:
    return f"{d.size} × {d.size} {'grey' if d.channels == 1 else 'RGB'}"


def signature(a, b) -> str:
    h = hashlib.sha1()
    for parts in (a, b):
        for d in parts:
            h.update(d.images.numpy().tobytes())
    return h.hexdigest()
