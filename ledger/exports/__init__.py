"""Open-data exports: OCDS for procurement contracts, 360Giving for grants, Beancount for the books."""
