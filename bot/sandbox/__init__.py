"""Embedded demo stores over real local HTTP: the shared fault knobs (``faults``) and the
BigCommerce store (``bigcommerce``); ``cli`` runs either one. (The 3dcart store still lives in
``bot/store/sandbox.py``.)"""
