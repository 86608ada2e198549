"""BigCommerce (API v2 customers, customer groups): the client and its field mapping."""
