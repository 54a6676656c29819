"""OT Flow Studio. Run with ``streamlit run app.py`` (or ``make app``).

The entrypoint: it names the pages, their titles in the sidebar and their URLs, and runs the one
the browser asked for. Each page file does its own set-up (``ui.page.setup``). The page files live
in ``views/``, not ``pages/``: beside st.navigation, a ``pages/`` folder made a fresh server answer a
deep link (``/density_ratio``) with a "Page not found" dialog over the right page (Streamlit #8860).
"""
from __future__ import annotations

import streamlit as st

#: (file, sidebar title, URL path); the first page is the home page, at the site's root
PAGES = [
    ("views/home.py", "Home", ""),
    ("views/1_Distributions.py", "Distributions", "distributions"),
    ("views/2_Train.py", "Train", "train"),
    ("views/3_Trajectories.py", "Trajectories", "trajectories"),
    ("views/4_Density_ratio.py", "Density ratio", "density_ratio"),
    ("views/5_Images.py", "Images", "images"),
    ("views/6_Compare.py", "Compare", "compare"),
    ("views/7_Lessons.py", "Lessons", "lessons"),
]

pages = [st.Page(path, title=title, url_path=url or None, default=not url) for path, title, url in PAGES]
st.navigation(pages).run()
