"""Keyset (cursor) pagination for every list: stable while rows come and go."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    ordering = "-id"
    page_size_query_param = "limit"
    max_page_size = 1000
