"""The catalog: listings of data products, code, APIs and purchased datasets; search; harvest; export."""
