"""OT Flow Studio. Run with ``streamlit run app.py`` (or ``make app``).

The entrypoint: it names the pages, their titles in the sidebar and their URLs, and runs the one
the browser asked for. Each page file does its own set-up (``ui.page.setup``).
"""
from __future__ import annotations

import streamlit as st

#: (file, sidebar title, URL path); the first page is the home page, at the site's root
PAGES = [
    ("pages/home.py", "Home", ""),
    ("pages/1_Distributions.py", "Distributions", "distributions"),
    ("pages/2_Train.py", "Train", "train"),
    ("pages/3_Trajectories.py", "Trajectories", "trajectories"),
    ("pages/4_Density_ratio.py", "Density ratio", "density_ratio"),
    ("pages/5_Images.py", "Images", "images"),
    ("pages/6_Compare.py", "Compare", "compare"),
    ("pages/7_Lessons.py", "Lessons", "lessons"),
]

pages = [st.Page(path, title=title, url_path=url or None, default=not url) for path, title, url in PAGES]
st.navigation(pages).run()
