"""Embedded demo stores over real local HTTP: the shared HTTP server (``server``) and fault knobs
(``faults``), the 3dcart store (``threedcart``, with its routes in ``threedcart_api`` and its data
in ``threedcart_data``), the BigCommerce store (``bigcommerce``); ``cli`` runs either one."""
