"""Procurement services: they own the transaction, check permissions and call the pure modules.

vendors     resolve names and UEIs to canonical vendors, list them, merge two (teaching imports)
purchases   record, edit, read (sensitive parts only for those allowed), search with facets, export
licences    licence terms per purchase, the renewals view
imports     award files into purchases: one transaction, per-row report, idempotent, dry run
"""
