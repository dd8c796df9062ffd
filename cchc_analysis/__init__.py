"""cchc_analysis: Vietnamese CCHC (public-administration-reform) reports -> tidy, validated data and an evaluation pack."""

__version__ = "0.1.0"
