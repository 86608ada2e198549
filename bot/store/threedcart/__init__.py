"""3dcart (REST API v1 customers, customer groups): the client and its field mapping."""

from ..http import BudgetRetry, TokenBucket
from .client import ThreeDCartClient
from .mapping import (CUSTOMER_FIELDS, GROUP_FIELDS, change_to_3dcart, customer_from_3dcart, group_from_3dcart,
                      parse_write_results, store_message)

__all__ = [
    "ThreeDCartClient", "TokenBucket", "BudgetRetry", "CUSTOMER_FIELDS", "GROUP_FIELDS",
    "customer_from_3dcart", "group_from_3dcart", "change_to_3dcart", "parse_write_results",
    "store_message",
]
